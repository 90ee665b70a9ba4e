// Package hostlink hands sdk/host the parts of package sdk that are the
// engine's, not an author's: the batch codec, in-place reading, filter
// chains and the protocol's descriptions. They need an event's insides,
// so they live in package sdk, unexported; sdk's init stores a value here
// whose methods sdk/host calls through an interface of its own. hostlink
// cannot name sdk's types (sdk imports it), hence the any.
package hostlink

// SDK is package sdk's host-side API, set by sdk's init before any
// importer of sdk/host runs.
var SDK any
