package grok

import "github.com/gostash/gostash/sdk"

// objects stores a pattern's captures that go into nested objects (the
// ECS names: [http][request][method], [http][response][status_code]...)
// one top-level object at a time. Storing each capture through its own
// field reference walked the event's top-level field and every object on
// the way down for each of them, and took the batch's lock twice; an ECS
// access-log line has ten captures under six objects. When the event has
// no field of the object's name yet (the usual case), the object is built
// whole under one lock; otherwise its captures go the general way, so the
// rules for existing fields hold unchanged.
type objects struct {
	groups []objectGroup
	loose  []int // captures stored one by one: top-level, @metadata, @timestamp
}

// objectGroup is the captures under one top-level name.
type objectGroup struct {
	ref   sdk.FieldRef // the top-level field
	top   string
	nodes []objectNode // nodes[0] is the top-level object itself
	caps  []objectCapture
}

// objectNode is an object inside the group: parent's field name.
type objectNode struct {
	parent int
	name   string
}

type objectCapture struct {
	i    int // index in Pattern.caps
	node int // the object that holds it
	leaf string
	// shared: another capture of the group names the same field, so the
	// value may have to join one already there
	shared bool
}

// maxObjectNodes bounds the objects of one group (they are tracked in an
// array on the stack while an event's group is built); a larger group
// stores its captures one by one.
const maxObjectNodes = 16

// planObjects groups caps by top-level name. It returns nil when there is
// nothing to group, or when a capture's field is also an object another
// capture goes into ([a][b] and [a][b][c]): then the order of the
// captures decides what happens, which only the general way keeps.
func planObjects(caps []capture) *objects {
	o := &objects{}
	leaves := map[string]bool{}
	nodes := map[string]bool{}
	byTop := map[string]int{}
	for i := range caps {
		c := &caps[i]
		path := c.ref.Path()
		leaves[pathKey(path)] = true
		if c.special || len(path) < 2 {
			o.loose = append(o.loose, i)
			continue
		}
		for n := 1; n < len(path); n++ {
			nodes[pathKey(path[:n])] = true
		}
		gi, ok := byTop[path[0]]
		if !ok {
			ref, err := sdk.ParseFieldRef("[" + path[0] + "]")
			if err != nil || len(ref.Path()) != 1 {
				o.loose = append(o.loose, i)
				continue
			}
			gi = len(o.groups)
			byTop[path[0]] = gi
			o.groups = append(o.groups, objectGroup{ref: ref, top: path[0], nodes: []objectNode{{parent: -1}}})
		}
		g := &o.groups[gi]
		node := 0
		for _, name := range path[1 : len(path)-1] {
			next := -1
			for k, n := range g.nodes {
				if n.parent == node && n.name == name {
					next = k
					break
				}
			}
			if next < 0 {
				next = len(g.nodes)
				g.nodes = append(g.nodes, objectNode{parent: node, name: name})
			}
			node = next
		}
		g.caps = append(g.caps, objectCapture{i: i, node: node, leaf: path[len(path)-1]})
	}
	for gi := range o.groups {
		cs := o.groups[gi].caps
		for a := range cs {
			for b := range cs {
				if a != b && cs[a].node == cs[b].node && cs[a].leaf == cs[b].leaf {
					cs[a].shared = true
				}
			}
		}
	}
	for k := range leaves {
		if nodes[k] {
			return nil
		}
	}
	// A group too large for the stack array goes the general way.
	kept := o.groups[:0]
	for _, g := range o.groups {
		if len(g.nodes) > maxObjectNodes {
			for _, c := range g.caps {
				o.loose = append(o.loose, c.i)
			}
			continue
		}
		kept = append(kept, g)
	}
	o.groups = kept
	if len(o.groups) == 0 {
		return nil
	}
	return o
}

// storeObjects stores a match's captures (caps as Pattern.exec returns
// them, on s) with the rules of handle, building each group's object in
// one go when the event has no field of its name. Only for
// keep_empty_captures false and no overwrite, where an empty capture sets
// nothing.
func (f *filter) storeObjects(e *sdk.Event, p *Pattern, s string, caps []int) {
	o := p.objects
	for _, i := range o.loose {
		if a := caps[2*i]; a >= 0 {
			f.handle(e, &p.caps[i], s[a:caps[2*i+1]])
		}
	}
	var fields map[string]any
	var fresh uint64 // groups to build, by index
	for gi := range o.groups {
		g := &o.groups[gi]
		if !g.anyValue(caps) {
			continue
		}
		m, leaf, err := g.ref.Container(e)
		if _, exists := m[leaf]; err != nil || exists || gi >= 64 {
			for _, c := range g.caps {
				if a := caps[2*c.i]; a >= 0 {
					f.handle(e, &p.caps[c.i], s[a:caps[2*c.i+1]])
				}
			}
			continue
		}
		fields = m
		fresh |= 1 << gi
	}
	if fresh == 0 {
		return
	}
	e.WithValues(func(v *sdk.Values) {
		for gi := range o.groups {
			if fresh&(1<<gi) != 0 {
				g := &o.groups[gi]
				fields[g.top] = g.build(v, p, s, caps)
			}
		}
	})
}

// anyValue reports whether a capture of g matched something not empty.
func (g *objectGroup) anyValue(caps []int) bool {
	for _, c := range g.caps {
		if a := caps[2*c.i]; a >= 0 && caps[2*c.i+1] > a {
			return true
		}
	}
	return false
}

// build makes g's object from the captures that matched something, with
// the objects on their way; a field two captures share becomes a list,
// as handle makes it.
func (g *objectGroup) build(v *sdk.Values, p *Pattern, s string, caps []int) map[string]any {
	var ms [maxObjectNodes]map[string]any
	for _, c := range g.caps {
		a, b := caps[2*c.i], caps[2*c.i+1]
		if a < 0 || b == a {
			continue
		}
		value := s[a:b]
		var x any
		switch p.caps[c.i].conv {
		case convInt:
			x = v.Int(rubyToI(value))
		case convFloat:
			x = v.Float(rubyToF(value))
		default:
			x = v.String(value)
		}
		m := g.node(&ms, c.node, v)
		if !c.shared {
			m[c.leaf] = x
			continue
		}
		if old, ok := m[c.leaf]; ok && old != nil {
			if x = merged(old, x); x == nil {
				continue
			}
		}
		m[c.leaf] = x
	}
	return ms[0]
}

// node returns object k of the group being built, making it (and the
// objects above it) when it is not there yet.
func (g *objectGroup) node(ms *[maxObjectNodes]map[string]any, k int, v *sdk.Values) map[string]any {
	if ms[k] == nil {
		ms[k] = v.Map()
		if n := g.nodes[k]; n.parent >= 0 {
			g.node(ms, n.parent, v)[n.name] = ms[k]
		}
	}
	return ms[k]
}
