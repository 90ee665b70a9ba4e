package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// notifyTwice returns a context cancelled by the first SIGINT or SIGTERM,
// which drains the pipeline; a second signal exits at once, as Logstash
// users expect from a second Ctrl-C.
func notifyTwice(log interface{ Warn(string, ...any) }) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		cancel()
		<-ch
		log.Warn("second stop signal: exiting without draining (unacked events will be read again)")
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}
