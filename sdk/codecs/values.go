package codecs

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Text returns b as a string without copying it when b is valid UTF-8,
// so b must not change afterwards (a Splitter's lines never do). Each
// byte that is not part of a valid UTF-8 sequence becomes U+FFFD (in a
// copy), as Java's decoders do for Logstash: a bad byte never drops a
// line, and every string an event carries is valid UTF-8.
func Text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if !utf8.Valid(b) {
		return toValidUTF8(b)
	}
	return unsafe.String(&b[0], len(b))
}

func toValidUTF8(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			sb.WriteString("\uFFFD")
		} else {
			sb.Write(b[:size])
		}
		b = b[size:]
	}
	return sb.String()
}

// Values boxes strings and integers into event values (the `any` a field
// holds) from arrays shared by many values, so that making an event does
// not allocate once per field. A boxed value must never be changed, which
// event values never are. The zero Values is ready to use; it is not safe
// for concurrent use.
type Values struct {
	strs []string
	ints []int64
}

const valuesChunk = 256

// eface is the layout of an empty interface.
type eface struct{ typ, data unsafe.Pointer }

var (
	stringType = efaceOf("").typ
	int64Type  = efaceOf(int64(0)).typ
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
