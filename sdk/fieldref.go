package sdk

import (
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// FieldRef is a parsed field reference: `message`, `[a][b]`, `[@metadata][kafka][topic]`.
// Parse it once (at config time) and use it per event.
type FieldRef struct {
	path []string
	raw  string
	// id remembers the top name's number in the dictionary of the last
	// batch it was used on (batchDict.refID); nil for a reference made
	// for one use.
	id *atomic.Uint64
}

// ParseFieldRef parses Logstash field-reference syntax: a bare top-level
// name, or one or more bracketed names.
func ParseFieldRef(s string) (FieldRef, error) {
	r, err := parseFieldRef(s)
	if err == nil {
		r.id = new(atomic.Uint64)
	}
	return r, err
}

// parseFieldRef parses a reference for one use (Event.Get and the like).
func parseFieldRef(s string) (FieldRef, error) {
	if s == "" {
		return FieldRef{}, fmt.Errorf("empty field reference")
	}
	if s[0] != '[' {
		if strings.ContainsAny(s, "[]") {
			return FieldRef{}, fmt.Errorf("invalid field reference %q: write nested names as [a][b]", s)
		}
		return FieldRef{path: []string{s}, raw: s}, nil
	}
	path := make([]string, 0, strings.Count(s, "["))
	rest := s
	for rest != "" {
		if rest[0] != '[' {
			return FieldRef{}, fmt.Errorf("invalid field reference %q: expected '[' at %q", s, rest)
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return FieldRef{}, fmt.Errorf("invalid field reference %q: missing ']'", s)
		}
		name := rest[1:end]
		if name == "" || strings.IndexByte(name, '[') >= 0 {
			return FieldRef{}, fmt.Errorf("invalid field reference %q: empty or nested name", s)
		}
		path = append(path, name)
		rest = rest[end+1:]
	}
	return FieldRef{path: path, raw: s}, nil
}

// MustParseFieldRef is ParseFieldRef for constants; it panics on error.
func MustParseFieldRef(s string) FieldRef {
	r, err := ParseFieldRef(s)
	if err != nil {
		panic(err)
	}
	return r
}

// String returns the reference as it was written.
func (r FieldRef) String() string { return r.raw }

// Path returns the names along the reference.
func (r FieldRef) Path() []string { return r.path }

// Get returns the referenced value. @timestamp is returned as time.Time.
func (r FieldRef) Get(e *Event) (any, bool) {
	if len(r.path) == 0 {
		return nil, false
	}
	root, path := r.root(e, false)
	if len(path) == 0 {
		// The reference is @timestamp or @metadata itself.
		switch r.path[0] {
		case FieldTimestamp:
			t, ok := e.Timestamp()
			if !ok {
				return nil, false
			}
			return t, true
		case FieldMetadata:
			if len(e.meta) == 0 {
				// None, or an emptied map a reused event keeps.
				return nil, false
			}
			return e.meta, true
		}
	}
	if root == nil {
		return nil, false
	}
	var cur any = root
	for _, name := range path {
		switch c := cur.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = c[name]; !ok {
				return nil, false
			}
		case []any:
			// As in Logstash, a number indexes a list: [tags][0] is the
			// first tag, [tags][-1] the last.
			i, ok := ListIndex(name, len(c))
			if !ok {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// ListIndex reads name, one name of a field reference, as the element it
// picks in a list of n elements, as Logstash does for [list][0]: negative
// ones count from the end ([list][-1] is the last); ok is false for a name
// that is not an index, or one out of range. For filters that walk values
// themselves.
func ListIndex(name string, n int) (int, bool) {
	neg := strings.HasPrefix(name, "-")
	digits := strings.TrimPrefix(name, "-")
	if digits == "" || len(digits) > 9 {
		return 0, false
	}
	i := 0
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = i*10 + int(c-'0')
	}
	if neg {
		i = n - i
	}
	if i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// Set stores v (normalized) at the reference, creating intermediate maps.
// It fails when an intermediate value exists and is not a map.
func (r FieldRef) Set(e *Event, v any) error {
	if len(r.path) == 0 {
		return fmt.Errorf("empty field reference")
	}
	v = Normalize(v)
	if r.path[0] == FieldTimestamp && len(r.path) == 1 {
		switch t := v.(type) {
		case time.Time:
			e.SetTimestamp(t)
		case string:
			ts, err := time.Parse(time.RFC3339Nano, t)
			if err != nil {
				return fmt.Errorf("@timestamp must be an ISO 8601 time: %w", err)
			}
			e.SetTimestamp(ts)
		case int64:
			e.SetTimestampNano(t * int64(time.Millisecond))
		default:
			return fmt.Errorf("@timestamp must be a time, not %T", v)
		}
		return nil
	}
	if len(r.path) == 1 && r.path[0] != FieldMetadata {
		// A top-level field is replaced whole: its old value, if it is
		// still raw, need not be decoded.
		e.shadowRef(&r)
		e.raw.foreign = true
		e.fields[r.path[0]] = v
		return nil
	}
	root, path := r.root(e, true)
	if len(path) == 0 { // [@metadata] itself
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("@metadata must be a map, not %T", v)
		}
		// The metadata map is the event's own, which a batchDecoder clears
		// and keeps when it reuses the event: it must not be a map that
		// is also another's (a nested map the decoder lent, which it
		// takes back on its own), so m's entries are copied in.
		if meta := e.Metadata(); mapPointer(meta) != mapPointer(m) {
			clear(meta)
			maps.Copy(meta, m)
		}
		return nil
	}
	m, leaf, err := r.container(e, root, path)
	if err != nil {
		return err
	}
	m[leaf] = v
	return nil
}

// Container returns the map that holds the referenced field and the
// field's name in it, creating missing maps on the way: for filters that
// decide what to store from what is already there (grok's append rules).
// It fails for @timestamp, which no map holds, and when a value on the
// way is not a map.
func (r FieldRef) Container(e *Event) (map[string]any, string, error) {
	if len(r.path) == 0 || (r.path[0] == FieldTimestamp && len(r.path) == 1) {
		return nil, "", fmt.Errorf("%s is not held in a map", r.raw)
	}
	root, path := r.root(e, true)
	if len(path) == 0 {
		return nil, "", fmt.Errorf("@metadata itself is not held in a map")
	}
	return r.container(e, root, path)
}

func (r FieldRef) container(e *Event, m map[string]any, path []string) (map[string]any, string, error) {
	for _, name := range path[:len(path)-1] {
		next, ok := m[name]
		if !ok {
			nm := e.newMap()
			m[name] = nm
			m = nm
			continue
		}
		nm, ok := next.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("cannot set %s: [%s] holds a %s, not a map", r.raw, name, TypeName(next))
		}
		m = nm
	}
	return m, path[len(path)-1], nil
}

// Delete removes the referenced value and returns it.
func (r FieldRef) Delete(e *Event) (any, bool) {
	if len(r.path) == 0 {
		return nil, false
	}
	if r.path[0] == FieldTimestamp && len(r.path) == 1 {
		t, ok := e.Timestamp()
		e.ts = 0
		return t, ok
	}
	root, path := r.root(e, false)
	if len(path) == 0 {
		m := e.meta
		e.meta = nil
		return m, m != nil
	}
	m := root
	for i, name := range path[:len(path)-1] {
		switch c := m[name].(type) {
		case map[string]any:
			m = c
		case []any:
			// [tags][0]: the list loses that element, as in Logstash.
			// A new list, since others may share the old one's array.
			if i != len(path)-2 {
				return nil, false
			}
			at, ok := ListIndex(path[len(path)-1], len(c))
			if !ok {
				return nil, false
			}
			v := c[at]
			m[name] = append(append(make([]any, 0, len(c)-1), c[:at]...), c[at+1:]...)
			return v, true
		default:
			return nil, false
		}
	}
	last := path[len(path)-1]
	v, ok := m[last]
	delete(m, last)
	return v, ok
}

// root picks the map a path starts in: @metadata or the fields.
func (r FieldRef) root(e *Event, create bool) (map[string]any, []string) {
	if r.path[0] == FieldMetadata {
		if e.meta == nil && create {
			e.meta = make(map[string]any, 2)
		}
		return e.meta, r.path[1:]
	}
	if r.path[0] == FieldTimestamp && len(r.path) == 1 {
		return nil, nil
	}
	// A raw field is found by its number in the batch's dictionary (see
	// rawFields.take): cheaper than first asking the map whether the name
	// is already decoded.
	e.touchRef(&r)
	if create {
		e.raw.foreign = true
	}
	return e.fields, r.path
}

// Get, Set and Delete on the event parse the reference each call; for a
// reference used per event, parse it once with ParseFieldRef.

// Get returns the value at ref ("[a][b]" or "a").
func (e *Event) Get(ref string) (any, bool) {
	r, err := parseFieldRef(ref)
	if err != nil {
		return nil, false
	}
	return r.Get(e)
}

// GetString returns the value at ref when it is a string.
func (e *Event) GetString(ref string) (string, bool) {
	v, ok := e.Get(ref)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// GetString returns the value at r when it is a string. A top-level
// string still raw (an event decoded from a batch) is read where it lies
// and stays raw: nothing is decoded, boxed or stored in the event's map,
// and the encoder copies it on as it arrived.
func (r FieldRef) GetString(e *Event) (string, bool) {
	if len(r.path) == 1 && e.raw.pending > 0 {
		if s, found, ok := e.raw.peekString(e.raw.dict.refID(&r)); found {
			return s, ok
		}
	}
	v, ok := r.Get(e)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// Set stores v at ref, creating intermediate maps.
func (e *Event) Set(ref string, v any) error {
	r, err := parseFieldRef(ref)
	if err != nil {
		return err
	}
	return r.Set(e, v)
}

// Delete removes the value at ref.
func (e *Event) Delete(ref string) {
	if r, err := parseFieldRef(ref); err == nil {
		r.Delete(e)
	}
}

// TypeName names a value's type in the words of the pipeline language.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	case time.Time:
		return "timestamp"
	}
	return fmt.Sprintf("%T", v)
}

func mapPointer(m map[string]any) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&m)) }

// FieldSet is references set together, event after event: for a filter
// that stores many fields per event (dissect's eleven). One Set boxes
// every value under a single lock of the event's batch, and walks each
// map on the way once for all the names under it ([http][request][method]
// and [http][version] find [http] once), where FieldRef.Set locked and
// walked per reference. A FieldSet is not changed by use: goroutines may
// share one.
type FieldSet struct {
	refs []FieldRef
	tops []setNode // the top-level names, in the order first used
	// oneByOne: a reference is @timestamp or @metadata, or a prefix of
	// another, where the order of the sets decides the outcome: Set then
	// sets them one after the other.
	oneByOne bool
	flat     int // tops set whole (no names under them)
	// leaf is, for each top, its one reference when it is set whole by
	// one, else -1: read without loading the node.
	leaf  []int
	nodes int // how many setNodes, numbered by seq
	// plan is how SetScalars writes the tops raw, in tree order, the
	// i-th top's steps at planAt[i]:planAt[i+1] (see planWrites).
	plan   []writeOp
	planAt []int32
	// ids: the numbers of the tops in the last batch dictionary used
	// (SetScalars); seen: those of the last few dictionaries, and grown:
	// the names the last few extended lacked (see remember).
	ids   atomic.Pointer[setIDs]
	seen  atomic.Pointer[[]*setIDs]
	grown atomic.Pointer[[]*setGrowth]
}

// setNode is one name along the references of a FieldSet.
type setNode struct {
	name     string
	top      FieldRef // the name alone, for a top-level node (its raw field)
	first    int      // a reference through this node, for errors
	leaves   []int    // references that end here, in their order
	children []setNode
	seq      int // the node's number: a top's index, then the others'
}

// NewFieldSet returns the set of refs, numbered as in refs.
func NewFieldSet(refs []FieldRef) *FieldSet {
	s := &FieldSet{refs: refs}
	for i, r := range refs {
		if len(r.path) == 0 || r.path[0] == FieldTimestamp || r.path[0] == FieldMetadata {
			s.oneByOne = true
			continue
		}
		nodes := &s.tops
		for depth, name := range r.path {
			var n *setNode
			for j := range *nodes {
				if (*nodes)[j].name == name {
					n = &(*nodes)[j]
					break
				}
			}
			if n == nil {
				*nodes = append(*nodes, setNode{name: name, first: i})
				n = &(*nodes)[len(*nodes)-1]
				if depth == 0 {
					n.top = FieldRef{path: r.path[:1:1], raw: name, id: new(atomic.Uint64)}
				}
			}
			if depth == len(r.path)-1 {
				n.leaves = append(n.leaves, i)
			}
			nodes = &n.children
		}
	}
	var conflict func(ns []setNode) bool
	conflict = func(ns []setNode) bool {
		for i := range ns {
			if len(ns[i].leaves) > 0 && len(ns[i].children) > 0 || conflict(ns[i].children) {
				return true
			}
		}
		return false
	}
	if conflict(s.tops) {
		s.oneByOne = true
	}
	// Number every node, the tops first (SetScalars' ids).
	s.nodes = len(s.tops)
	var number func(ns []setNode)
	number = func(ns []setNode) {
		for i := range ns {
			ns[i].seq = s.nodes
			s.nodes++
			number(ns[i].children)
		}
	}
	for i := range s.tops {
		s.tops[i].seq = i
		number(s.tops[i].children)
	}
	s.leaf = make([]int, len(s.tops))
	for i := range s.tops {
		s.leaf[i] = -1
		if t := &s.tops[i]; len(t.children) == 0 {
			s.flat++
			if len(t.leaves) == 1 {
				s.leaf[i] = t.leaves[0]
			}
		}
	}
	s.planWrites()
	return s
}

// Set stores value(i, v) at the i-th reference, for each, with the
// outcome of FieldRef.Set on each in turn. value runs with the event's
// batch locked, as in Event.WithValues: it makes its value in v (v.String,
// v.Int...) and must not use the event. value is not called for a
// reference that cannot be set (a value on the way is not a map). Set
// returns the first error; the other references are set all the same.
func (s *FieldSet) Set(e *Event, value func(i int, v *Values) any) error {
	return s.set(e, valuer{boxed: value})
}

func (s *FieldSet) set(e *Event, value valuer) error {
	if s.oneByOne {
		var first error
		for i := range s.refs {
			var x any
			e.WithValues(func(v *Values) { x = value.value(i, v) })
			if err := s.refs[i].Set(e, x); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	// Raw fields first: decoding one locks the batch. A name set whole
	// is forgotten, one with names under it decoded.
	for i := range s.tops {
		if t := &s.tops[i]; len(t.children) == 0 {
			e.shadowRef(&t.top)
		} else {
			e.touchRef(&t.top)
		}
	}
	var err error
	e.raw.foreign = true
	e.WithValues(func(v *Values) {
		for i := range s.tops {
			err = s.setNode(e.fields, &s.tops[i], v, value, err)
		}
	})
	return err
}

func (s *FieldSet) setNode(m map[string]any, n *setNode, v *Values, value valuer, err error) error {
	if len(n.children) == 0 {
		for _, i := range n.leaves {
			m[n.name] = Normalize(value.value(i, v))
		}
		return err
	}
	var child map[string]any
	if x, found := m[n.name]; !found {
		child = v.Map()
		m[n.name] = child
	} else if child, found = x.(map[string]any); !found {
		if err == nil {
			err = fmt.Errorf("cannot set %s: [%s] holds a %s, not a map", s.refs[n.first].raw, n.name, TypeName(x))
		}
		return err
	}
	for i := range n.children {
		err = s.setNode(child, &n.children[i], v, value, err)
	}
	return err
}
