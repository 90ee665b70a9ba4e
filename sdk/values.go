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

// String returns s as an event value.
func (v *Values) String(s string) any {
	if len(v.strs) == cap(v.strs) {
		v.strs = make([]string, 0, valuesChunk)
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
		v.ints = make([]int64, 0, valuesChunk)
	}
	v.ints = append(v.ints, n)
	return box(int64Type, unsafe.Pointer(&v.ints[len(v.ints)-1]))
}

// Float returns f as an event value (a float64).
func (v *Values) Float(f float64) any {
	if len(v.floats) == cap(v.floats) {
		v.floats = make([]float64, 0, valuesChunk/4)
	}
	v.floats = append(v.floats, f)
	return box(float64Type, unsafe.Pointer(&v.floats[len(v.floats)-1]))
}
