package wire

// RawField is a top-level field of an event decoded from a batch that
// nothing has read or replaced yet: Key numbers its name in the batch's
// dictionary and Value is its Value message (sdk/proto/v1/plugin.proto)
// as it arrived, nested names numbered in the same dictionary.
type RawField struct {
	Key   uint32
	Value []byte
}

// MaxRawNames is how many names one dictionary family holds: beyond it
// (a stream of ever new names) RawBuilder.Key says no, the caller builds
// its event another way, and Rotate starts a new family.
const MaxRawNames = 256
