// Package host is the engine's side of the plugin protocol: what the
// gostash core uses beside package sdk to run plugins, move batches
// between processes and describe components (sdk/codecs and sdk/sdktest
// use it too, for raw fields and to cross events as a plugin does). The
// batch codec, in-place reading, buffer pools, filter chains and the
// go-plugin handshake live here and under sdk/internal, not in sdk, so
// that sdk is only what a plugin author writes against.
//
// Third-party plugins should not import host: it has no compatibility
// promise and changes with the core it ships with. What an author needs
// (events, Serve, the Input, Filter and Output contracts) is in package
// sdk, and the in-process test harness in sdk/sdktest.
package host
