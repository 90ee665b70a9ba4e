package sdk

import "unsafe"

// Values boxes strings and numbers into event values (the `any` a field
// holds) from arrays shared by many values, so that decoding a batch or
// making events allocates per few hundred values, not per value. A boxed
// value must never be changed, which event values never are. The zero
// Values is ready to use; it is not safe for concurrent use.
type Values struct {
	strs   []string
	ints   []int64
	floats []float64
	// chunks, when set, hands out and takes back the arrays (a batchDecoder's
	// whose values are released batch after batch, see batchDecoder.Release).
	chunks *chunks
	// dec, when set, lends maps and lists (a batchDecoder's, which takes
	// them back with the batch).
	dec *batchDecoder
}

const valuesChunk = 256

// eface is the layout of an empty interface.
type eface struct{ typ, data unsafe.Pointer }

var (
	stringType  = efaceOf("").typ
	int64Type   = efaceOf(int64(0)).typ
	float64Type = efaceOf(float64(0)).typ
)

func efaceOf(v any) eface { return *(*eface)(unsafe.Pointer(&v)) }

func box(typ, data unsafe.Pointer) (v any) {
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: typ, data: data}
	return v
}

// Map returns an empty map for an object in an event value. A Values an
// event lends (Event.WithValues) takes it from the event's batch, which
// takes it back with the batch; else it is a new map.
func (v *Values) Map() map[string]any {
	if v.dec != nil {
		return v.dec.newMap()
	}
	return make(map[string]any, 4)
}

// String returns s as an event value.
func (v *Values) String(s string) any {
	if len(v.strs) == cap(v.strs) {
		v.strs = v.chunks.strs()
	}
	v.strs = append(v.strs, s)
	return box(stringType, unsafe.Pointer(&v.strs[len(v.strs)-1]))
}

// Int returns n as an event value (an int64).
func (v *Values) Int(n int64) any {
	if n >= 0 && n < 256 {
		return n // Go boxes small integers without allocating
	}
	if len(v.ints) == cap(v.ints) {
		v.ints = v.chunks.ints()
	}
	v.ints = append(v.ints, n)
	return box(int64Type, unsafe.Pointer(&v.ints[len(v.ints)-1]))
}

// Float returns f as an event value (a float64).
func (v *Values) Float(f float64) any {
	if len(v.floats) == cap(v.floats) {
		v.floats = v.chunks.floats()
	}
	v.floats = append(v.floats, f)
	return box(float64Type, unsafe.Pointer(&v.floats[len(v.floats)-1]))
}

// chunks are the arrays a Values has filled since its values were last
// released, kept to be filled again: allocating them was most of boxing a
// string, and the garbage they made kept the collector running (its write
// barriers and preemptions cost filters more than the allocations did).
// A nil *chunks allocates every array anew.
type chunks struct {
	s          [][]string
	i          [][]int64
	f          [][]float64
	ns, ni, nf int // how many of each are in use
}

// maxChunks bounds the arrays of each kind kept for reuse (1 MiB of
// strings), so one huge batch does not pin its memory for good.
const maxChunks = 256

func (c *chunks) strs() []string {
	if c == nil || c.ns == maxChunks {
		return make([]string, 0, valuesChunk)
	}
	if c.ns == len(c.s) {
		c.s = append(c.s, make([]string, 0, valuesChunk))
	}
	c.ns++
	return c.s[c.ns-1][:0]
}

func (c *chunks) ints() []int64 {
	if c == nil || c.ni == maxChunks {
		return make([]int64, 0, valuesChunk)
	}
	if c.ni == len(c.i) {
		c.i = append(c.i, make([]int64, 0, valuesChunk))
	}
	c.ni++
	return c.i[c.ni-1][:0]
}

func (c *chunks) floats() []float64 {
	if c == nil || c.nf == maxChunks {
		return make([]float64, 0, valuesChunk/4)
	}
	if c.nf == len(c.f) {
		c.f = append(c.f, make([]float64, 0, valuesChunk/4))
	}
	c.nf++
	return c.f[c.nf-1][:0]
}

// recycle starts a new batch of values. When the last batch's were
// released, the arrays of v's chunks are free to be filled again (none of
// the values boxed in them may be used afterwards); otherwise the arrays
// filled so far leave the chunks for good, as whoever read their values
// may hold them, and the one being filled is filled on (appending never
// changes a value already boxed).
func (v *Values) recycle(released bool) {
	c := v.chunks
	if c == nil {
		return
	}
	if released {
		c.ns, c.ni, c.nf = 0, 0, 0
		v.strs, v.ints, v.floats = nil, nil, nil
		return
	}
	c.s, c.ns = drop(c.s, c.ns), 0
	c.i, c.ni = drop(c.i, c.ni), 0
	c.f, c.nf = drop(c.f, c.nf), 0
}

// drop removes the first n arrays of l.
func drop[T any](l [][]T, n int) [][]T {
	k := copy(l, l[n:])
	clear(l[k:])
	return l[:k]
}
