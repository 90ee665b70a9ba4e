package config

import (
	"fmt"
	"strings"

	"github.com/gostash/gostash/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// The SDK declares, checks and applies the common options itself
// (sdk/common.go), so the core knows them for every plugin, third-party
// ones included. Their templates are checked here too, before any plugin
// runs, each at its own range (a key, a list entry): otherwise a bad one passes
// --configtest and the pipeline fails when it starts, and an add_field
// key that is no field reference is skipped on every event, unnoticed.
// An input's tags and type are not templates (as in Logstash).

// commonTemplates names the list options whose entries are templates; ref
// is set when an entry must render to a field reference.
var commonTemplates = map[sdk.Kind][]struct {
	name string
	ref  bool
}{
	sdk.KindFilter: {{"add_tag", false}, {"remove_field", true}, {"remove_tag", false}},
}

// checkCommon checks the common options of a block whose settings decoded.
func checkCommon(p *Pipeline, b *Block, values map[string]any) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := b.syn.Body.Attributes
	if attr, ok := attrs["add_field"]; ok && (b.Kind == sdk.KindInput || b.Kind == sdk.KindFilter) {
		m, _ := values["add_field"].(map[string]any)
		pairs, hdiags := hcl.ExprMap(attr.Expr)
		if hdiags.HasErrors() {
			pairs = nil // not written as { k = v }: check the values at the setting
		}
		seen := map[string]bool{}
		for _, kv := range pairs {
			k, kdiags := kv.Key.Value(p.ctx)
			if kdiags.HasErrors() || !k.IsKnown() || k.IsNull() {
				continue
			}
			ks, err := convert.Convert(k, cty.String)
			if err != nil {
				continue
			}
			key := ks.AsString()
			seen[key] = true
			diags = append(diags, checkTemplate(p, "add_field", key, true, kv.Key)...)
			diags = append(diags, checkTemplates(p, fmt.Sprintf("add_field[%q]", key), m[key], false, kv.Value)...)
		}
		for _, key := range sdk.SortedKeys(m) {
			if seen[key] {
				continue
			}
			diags = append(diags, checkTemplate(p, "add_field", key, true, attr.Expr)...)
			diags = append(diags, checkTemplates(p, fmt.Sprintf("add_field[%q]", key), m[key], false, attr.Expr)...)
		}
	}
	for _, opt := range commonTemplates[b.Kind] {
		attr, ok := attrs[opt.name]
		if !ok {
			continue
		}
		diags = append(diags, checkTemplates(p, opt.name, values[opt.name], opt.ref, attr.Expr)...)
	}
	return diags
}

// checkTemplates checks a value that is a template or a list of them (an
// add_field value may be either), each entry at its own range.
func checkTemplates(p *Pipeline, setting string, v any, ref bool, expr hcl.Expression) hcl.Diagnostics {
	if s, ok := v.(string); ok {
		return checkTemplate(p, setting, s, ref, expr)
	}
	list, _ := v.([]any)
	elems, ldiags := hcl.ExprList(expr)
	var diags hcl.Diagnostics
	for i, x := range list {
		s, _ := x.(string)
		at := expr
		if !ldiags.HasErrors() && len(elems) == len(list) {
			at = elems[i]
		}
		diags = append(diags, checkTemplate(p, setting, s, ref, at)...)
	}
	return diags
}

// checkTemplate checks one template of setting and, when ref is set, that
// it renders to a field reference whatever its %{...} render to.
func checkTemplate(p *Pipeline, setting, s string, ref bool, expr hcl.Expression) hcl.Diagnostics {
	what := "template"
	if ref {
		what = "field reference"
	}
	if _, err := sdk.ParseTemplate(s); err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + what + " in " + setting,
			Detail:   redactEnv(err.Error(), expr, p.env) + ". " + templateHelp,
			Subject:  expr.Range().Ptr(),
		}}
	}
	if !ref {
		return nil
	}
	if _, err := sdk.ParseFieldRef(refSkeleton(s)); err != nil {
		shown := quoteFrom(expr, s)
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid field reference in " + setting,
			Detail:   upperFirst(shown) + " does not name a field. Write a top-level name (host) or bracketed names ([host][name]), each part non-empty; %{...} may stand for a part.",
			Subject:  expr.Range().Ptr(),
		}}
	}
	return nil
}

const templateHelp = "A reference is %{name}, %{[a][b]}, %{+yyyy.MM.dd} (Joda) or %{{yyyy-MM-dd}} (java.time)."

// refSkeleton replaces each %{...} of a template that parsed with a
// name, so the field reference around it can be checked: "[a][%{x}]"
// becomes "[a][x]". It splits as sdk.ParseTemplate does.
func refSkeleton(s string) string {
	var b strings.Builder
	for {
		open := strings.Index(s, "%{")
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			break
		}
		end += open
		if strings.HasPrefix(s[open+2:end], "{") && end+1 < len(s) && s[end+1] == '}' {
			end++
		}
		b.WriteString(s[:open])
		b.WriteString("x")
		s = s[end+1:]
	}
	b.WriteString(s)
	return b.String()
}
