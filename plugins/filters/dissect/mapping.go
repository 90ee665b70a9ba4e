package dissect

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gostash/gostash/sdk"
)

// kind is what a %{...} does with the text it covers.
type kind uint8

const (
	normal   kind = iota // %{key}: set key
	skip                 // %{}, %{?key}, %{*key}: found, not stored
	appended             // %{+key}, %{+key/n}: joined onto key
	indirect             // %{&key}: stored under the value of key
)

// field is one %{...} of a mapping and the delimiter after it.
type field struct {
	kind    kind
	name    string       // the key as written, prefixes and suffixes removed
	ref     sdk.FieldRef // name as a field reference (not for skip)
	ordinal int          // Logstash's saving order: normal, appends by /n, indirect
	join    string       // for appends: the delimiter before, or " "
	// next is the delimiter that ends the field; "" for the last field,
	// which takes the rest of the text.
	next string
	// greedy (the -> suffix): after next, further copies of next are
	// skipped (padding).
	greedy bool
	// slot is where match puts the field's span: a normal field's at
	// its index in dissector.normals (the values FieldSet.SetSpans
	// takes, in the order of the set's references), the others after.
	slot int
}

// dissector is one compiled mapping: delimiters and fields in order.
type dissector struct {
	source  string       // the field dissected, as written
	ref     sdk.FieldRef // source as a field reference
	mapping string
	lead    string  // text before the first field, which must start the value
	fields  []field // in the mapping's order
	save    []int   // indexes of fields to store, in the order they are stored
	// normals are the normal fields of save, which come first in it, set
	// together (one lock of the batch, each nested map found once).
	normals []int
	set     *sdk.FieldSet
	// conv[k] is the conversion of normals[k]'s field when it can be
	// made as the field is stored (filter.fuse), else nil; other has
	// bit k set for those (FieldSet.SetSpans).
	conv  []*conversion
	other uint64
}

// Saving order, as Logstash's dissect sorts its fields: normal fields
// first, then appends (by their /n, in written order for equal ones), then
// indirect fields, which may use what the others stored.
const (
	ordNormal   = 1
	ordAppend   = 100
	ordIndirect = 1000
)

// compile parses a mapping once, at configuration time. Everything
// Logstash would refuse at register, and what it would accept but could
// never match, is an error here.
func compile(source, mapping string) (*dissector, error) {
	d := &dissector{source: source, mapping: mapping}
	if mapping == "" {
		return nil, fmt.Errorf("the mapping is empty")
	}
	rest := mapping
	for first := true; ; first = false {
		open := strings.Index(rest, "%{")
		if open < 0 {
			break
		}
		delim := rest[:open]
		closeAt := strings.IndexByte(rest[open+2:], '}')
		if closeAt < 0 {
			return nil, fmt.Errorf("%%{ at offset %d is not closed with }", len(mapping)-len(rest)+open)
		}
		spec := rest[open+2 : open+2+closeAt]
		if strings.Contains(spec, "%{") {
			return nil, fmt.Errorf("%%{ at offset %d is not closed with } before the next %%{", len(mapping)-len(rest)+open)
		}
		if first {
			d.lead = delim
		} else {
			if delim == "" {
				return nil, fmt.Errorf("%%{%s} follows %%{...} with no delimiter between them: the first would never end (Logstash never matches such a mapping)", spec)
			}
			d.fields[len(d.fields)-1].next = delim
		}
		f, err := parseField(spec)
		if err != nil {
			return nil, fmt.Errorf("%%{%s}: %v", spec, err)
		}
		// An append joins its value with the delimiter before it, or a
		// space when there is none.
		f.join = delim
		if f.join == "" {
			f.join = " "
		}
		d.fields = append(d.fields, f)
		rest = rest[open+2+closeAt+1:]
	}
	if len(d.fields) == 0 {
		return nil, fmt.Errorf("the mapping has no %%{...} field")
	}
	// Text after the last field is a delimiter that must be found; what
	// follows it is ignored (Logstash adds a skip field for it).
	d.fields[len(d.fields)-1].next = rest
	for i := range d.fields {
		if d.fields[i].kind != skip {
			d.save = append(d.save, i)
		}
	}
	sort.SliceStable(d.save, func(a, b int) bool { return d.fields[d.save[a]].ordinal < d.fields[d.save[b]].ordinal })
	var refs []sdk.FieldRef
	for _, i := range d.save {
		if d.fields[i].kind == normal {
			d.normals = append(d.normals, i)
			refs = append(refs, d.fields[i].ref)
		}
	}
	slot := len(d.normals)
	for i := range d.fields {
		if f := &d.fields[i]; f.kind == normal {
			f.slot = slices.Index(d.normals, i)
		} else {
			f.slot, slot = slot, slot+1
		}
	}
	d.set = sdk.NewFieldSet(refs)
	d.conv = make([]*conversion, len(d.normals))
	return d, nil
}

// parseField parses what is between %{ and }.
func parseField(spec string) (field, error) {
	f := field{kind: normal, ordinal: ordNormal}
	body := spec
	switch {
	case body == "":
		f.kind = skip
	case strings.HasPrefix(body, "+&"), strings.HasPrefix(body, "&+"):
		return f, fmt.Errorf("a field cannot be both an append (+) and an indirect (&) field")
	case body[0] == '?' || body[0] == '*':
		// * is Elasticsearch's spelling of the reference key that & reads.
		f.kind = skip
		body = body[1:]
	case body[0] == '+':
		f.kind, f.ordinal = appended, ordAppend
		body = body[1:]
	case body[0] == '&':
		f.kind, f.ordinal = indirect, ordIndirect
		body = body[1:]
	}
	name, suffix := splitSuffix(body)
	if strings.Contains(suffix, "->") {
		f.greedy = true
	}
	// /n orders appends; on other fields Logstash ignores it, and so do we.
	if n := strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(suffix, "->"), "->"), "/"); n != "" && f.kind == appended {
		v, _ := strconv.Atoi(n)
		f.ordinal += v
	}
	f.name = name
	if f.kind == skip {
		return f, nil
	}
	if name == "" {
		if f.kind == normal {
			// %{->} is padding, skipped
			f.kind = skip
			return f, nil
		}
		return f, fmt.Errorf("the field has no name")
	}
	ref, err := sdk.ParseFieldRef(name)
	if err != nil {
		return f, err
	}
	f.ref = ref
	return f, nil
}

// splitSuffix splits a key from its suffix: /n (one or two digits), ->,
// or both in either order, as Logstash's dissect reads them.
func splitSuffix(s string) (name, suffix string) {
	rest := s
	hasGreedy, hasOrd := false, false
	for range 2 {
		if r, ok := greedyCut(rest); ok && !hasGreedy {
			rest, hasGreedy = r, true
			continue
		}
		if r, ok := ordinalCut(rest); ok && !hasOrd {
			rest, hasOrd = r, true
			continue
		}
		break
	}
	return rest, s[len(rest):]
}

func greedyCut(s string) (string, bool) {
	if strings.HasSuffix(s, "->") {
		return s[:len(s)-2], true
	}
	return s, false
}

func ordinalCut(s string) (string, bool) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' && len(s)-i < 2 {
		i--
	}
	if i == len(s) || i == 0 || s[i-1] != '/' {
		return s, false
	}
	return s[:i-1], true
}

// named is the index of another field (skip fields included) named name,
// -1 when there is none: where an indirect field finds its key.
func (d *dissector) named(name string, not int) int {
	for i := range d.fields {
		if i != not && d.fields[i].name == name {
			return i
		}
	}
	return -1
}

// match finds every field's value in s: a left-to-right scan for each
// delimiter, no backtracking. spans has room for every field, each put
// at its slot. It reports whether every delimiter was found.
func (d *dissector) match(s string, spans []sdk.Span) bool {
	pos := 0
	if d.lead != "" {
		if !strings.HasPrefix(s, d.lead) {
			return false
		}
		pos = len(d.lead)
	}
	last := len(d.fields) - 1
	for i := range d.fields {
		f := &d.fields[i]
		if f.next == "" { // the last field: the rest
			spans[f.slot] = sdk.Span{Start: pos, End: len(s)}
			return true
		}
		j := index(s[pos:], f.next)
		if j < 0 {
			return false
		}
		spans[f.slot] = sdk.Span{Start: pos, End: pos + j}
		pos += j + len(f.next)
		if f.greedy && i < last {
			for strings.HasPrefix(s[pos:], f.next) {
				pos += len(f.next)
			}
		}
	}
	return true
}

// index is strings.Index(s, d) for a delimiter d, without its set-up
// for long patterns: delimiters are a few bytes, found by their first
// (strings.IndexByte) and checked for the rest there.
func index(s, d string) int {
	if len(d) == 1 {
		return strings.IndexByte(s, d[0])
	}
	for i := 0; i+len(d) <= len(s); {
		j := strings.IndexByte(s[i:len(s)-len(d)+1], d[0])
		if j < 0 {
			return -1
		}
		if i += j; s[i+1:i+len(d)] == d[1:] {
			return i
		}
		i++
	}
	return -1
}
