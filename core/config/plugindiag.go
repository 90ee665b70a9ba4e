package config

import (
	"strconv"

	"github.com/gostash/gostash/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Diagnostics places a plugin's own checks (its Validate call) in the
// source: each Path, [setting] or [setting, map key or list index, ...],
// points at that element's value, else at the setting's value, else at
// the block's header.
func (b *Block) Diagnostics(ds sdk.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, 0, len(ds))
	for _, d := range ds {
		sev := hcl.DiagError
		if d.Warning {
			sev = hcl.DiagWarning
		}
		summary := d.Summary
		if summary == "" {
			summary = "Invalid settings for " + b.Label()
		}
		r := b.p.fix(b.pathRange(d.Path))
		out = append(out, &hcl.Diagnostic{Severity: sev, Summary: b.redact(summary), Detail: b.redact(d.Detail), Subject: &r})
	}
	return out
}

func (b *Block) pathRange(path []string) hcl.Range {
	if len(path) == 0 {
		return b.defRange()
	}
	attr, ok := b.syn.Body.Attributes[path[0]]
	if !ok {
		return b.defRange() // a default, or a missing setting
	}
	var expr hcl.Expression = attr.Expr
	for i, step := range path[1:] {
		if i == 0 && step == "0" && b.coerced[path[0]] {
			break // the single value stands for element 0
		}
		next := b.elem(expr, step)
		if next == nil {
			break
		}
		expr = next
	}
	return expr.Range()
}

// elem finds the expression of a map value by key or a list element by
// index, or nil.
func (b *Block) elem(expr hcl.Expression, step string) hcl.Expression {
	if pairs, diags := hcl.ExprMap(expr); !diags.HasErrors() {
		var found hcl.Expression
		for _, kv := range pairs {
			k, diags := kv.Key.Value(b.p.ctx)
			if diags.HasErrors() || !k.IsKnown() || k.IsNull() {
				continue
			}
			if ks, err := convert.Convert(k, cty.String); err == nil && ks.AsString() == step {
				found = kv.Value // the last one wins, as in HCL
			}
		}
		return found
	}
	if elems, diags := hcl.ExprList(expr); !diags.HasErrors() {
		if i, err := strconv.Atoi(step); err == nil && i >= 0 && i < len(elems) {
			return elems[i]
		}
	}
	return nil
}

// redact hides, in a plugin's words, the values the block's settings read
// from the environment: a plugin quoting a setting may quote a password.
func (b *Block) redact(text string) string {
	for _, attr := range b.syn.Body.Attributes {
		text = redactEnv(text, attr.Expr, b.p.env)
	}
	return text
}
