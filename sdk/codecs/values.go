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
