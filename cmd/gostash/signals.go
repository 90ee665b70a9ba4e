package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// stopSignals each ask for a graceful stop. SIGHUP is not one: it asks
// for a reload, as in Logstash (see hangups).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// notifyTwice returns a context cancelled by the first SIGINT or SIGTERM,
// which drains the pipeline; a second one exits at once, as
// Logstash users expect from a second Ctrl-C, with the status a shell
// gives a process that signal killed (128 + its number: 143 for SIGTERM,
// 130 for SIGINT).
func notifyTwice(log interface{ Warn(string, ...any) }) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, stopSignals...)
	go func() {
		first := <-ch
		at := time.Now()
		cancel()
		for sig := range ch {
			// timeout(1) and a kill of the process group deliver one stop
			// twice within microseconds: that is not a second Ctrl-C.
			if sig == first && time.Since(at) < duplicateWindow {
				continue
			}
			log.Warn("second stop signal: exiting without draining (unacked events will be read again)", "signal", sig.String())
			os.Exit(exitStatusFor(sig))
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// duplicateWindow is how soon after the first stop signal the same signal
// counts as the same delivery, not a second request.
const duplicateWindow = 100 * time.Millisecond

// exitStatusFor is 128 + the signal's number, as a shell reports it.
func exitStatusFor(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// hangups delivers each SIGHUP: as `kill -HUP` does to Logstash, it asks
// for the configuration to be checked and the pipeline reloaded now. Left
// unwatched, SIGHUP would kill the process without a drain.
func hangups() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
}
