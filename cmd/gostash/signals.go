package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// stopSignals each ask for a graceful stop. SIGHUP drains like SIGTERM:
// there is no reload yet, and a hung-up terminal means the same as Ctrl-C.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// notifyTwice returns a context cancelled by the first SIGINT, SIGTERM or
// SIGHUP, which drains the pipeline; a second one exits at once, as
// Logstash users expect from a second Ctrl-C, with the status a shell
// gives a process that signal killed (128 + its number: 143 for SIGTERM,
// 130 for SIGINT).
func notifyTwice(log interface{ Warn(string, ...any) }) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, stopSignals...)
	go func() {
		<-ch
		cancel()
		sig := <-ch
		log.Warn("second stop signal: exiting without draining (unacked events will be read again)", "signal", sig.String())
		os.Exit(exitStatusFor(sig))
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// exitStatusFor is 128 + the signal's number, as a shell reports it.
func exitStatusFor(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
