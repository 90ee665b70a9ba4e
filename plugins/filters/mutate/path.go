package mutate

import (
	"fmt"

	"github.com/gostash/gostash/sdk"
)

// path is a field reference that, as Logstash's does, also steps into
// lists: in `[foo][0]` the 0 is an index when [foo] holds a list (from
// the end when negative, `[foo][-1]`), a key when it holds a map.
// sdk.FieldRef reads through lists too, and deletes a list's element
// only as the last step; setting into a list, and deleting below one,
// are walked here after the first name (which goes through the SDK: it
// knows @metadata, @timestamp and the fields still undecoded).
type path struct {
	ref  sdk.FieldRef // the whole reference
	top  sdk.FieldRef // its first name alone
	rest []string     // the names after the first
}

func parsePath(s string) (*path, error) {
	ref, err := sdk.ParseFieldRef(s)
	if err != nil {
		return nil, err
	}
	p := &path{ref: ref}
	names := ref.Path()
	if len(names) > 1 {
		p.top = sdk.MustParseFieldRef("[" + names[0] + "]")
		p.rest = names[1:]
	}
	return p, nil
}

func (p *path) String() string { return p.ref.String() }

func step(cur any, name string) (any, bool) {
	switch c := cur.(type) {
	case map[string]any:
		v, ok := c[name]
		return v, ok
	case []any:
		if i, ok := sdk.ListIndex(name, len(c)); ok {
			return c[i], true
		}
	}
	return nil, false
}

// get returns the value and whether the field exists (a null value
// exists).
func (p *path) get(e *sdk.Event) (any, bool) { return p.ref.Get(e) }

// set stores v, creating missing maps on the way as Logstash does. It
// fails when a value on the way is neither a map nor a list, or an index
// is out of range.
func (p *path) set(e *sdk.Event, v any) error {
	if p.rest == nil {
		return p.ref.Set(e, v)
	}
	cur, ok := p.top.Get(e)
	if !ok {
		return p.ref.Set(e, v)
	}
	inList := false
	for i, name := range p.rest {
		last := i == len(p.rest)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[name] = v
				return nil
			}
			next, ok := c[name]
			if !ok {
				if !inList {
					return p.ref.Set(e, v) // the SDK makes the maps
				}
				for _, n := range p.rest[i+1:] {
					m := make(map[string]any, 2)
					c[name], c, name = m, m, n
				}
				c[name] = v
				return nil
			}
			cur = next
		case []any:
			j, ok := sdk.ListIndex(name, len(c))
			if !ok {
				return fmt.Errorf("cannot set %s: [%s] is not an index of a list of %d", p, name, len(c))
			}
			if last {
				c[j] = v
				return nil
			}
			inList = true
			cur = c[j]
		default:
			if !inList {
				return p.ref.Set(e, v) // the SDK says what is in the way
			}
			return fmt.Errorf("cannot set %s: [%s] is under a %s, not a map", p, name, sdk.TypeName(cur))
		}
	}
	return nil
}

// del removes the field and returns its value.
func (p *path) del(e *sdk.Event) (any, bool) {
	if p.rest == nil {
		return p.ref.Delete(e)
	}
	parent, ok := p.top.Get(e)
	for _, name := range p.rest[:len(p.rest)-1] {
		if !ok {
			return nil, false
		}
		parent, ok = step(parent, name)
	}
	if !ok {
		return nil, false
	}
	name := p.rest[len(p.rest)-1]
	switch c := parent.(type) {
	case map[string]any:
		v, ok := c[name]
		delete(c, name)
		return v, ok
	case []any:
		i, ok := sdk.ListIndex(name, len(c))
		if !ok {
			return nil, false
		}
		v := c[i]
		// The list shrinks: store the shorter one where the list was.
		short := append(append(make([]any, 0, len(c)-1), c[:i]...), c[i+1:]...)
		names := p.ref.Path()
		ref := ""
		for _, n := range names[:len(names)-1] {
			ref += "[" + n + "]"
		}
		pp, err := parsePath(ref)
		if err != nil || pp.set(e, short) != nil {
			return nil, false
		}
		return v, true
	}
	return nil, false
}
