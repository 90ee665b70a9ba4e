package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// envContext makes the evaluation context of ${...}: the environment as
// the object env, and nothing else.
func envContext(environ []string) (map[string]string, *hcl.EvalContext) {
	env := make(map[string]string, len(environ))
	vals := make(map[string]cty.Value, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		env[k] = v
		vals[k] = cty.StringVal(v)
	}
	return env, &hcl.EvalContext{Variables: map[string]cty.Value{"env": cty.ObjectVal(vals)}}
}

// checkVars reports references HCL would reject with a vaguer message: an
// unset environment variable, and Logstash's ${NAME}, which gostash
// writes ${env.NAME}. Expressions with such problems are not evaluated.
func checkVars(expr hcl.Expression, env map[string]string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		if root != "env" {
			detail := "${...} can only refer to environment variables, as ${env.NAME}. To write a literal ${, write $${."
			if _, set := env[root]; set || strings.ToUpper(root) == root {
				detail = fmt.Sprintf("Logstash's ${%s} is written ${env.%s} in gostash. To write a literal ${, write $${.", root, root)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown variable " + quote(root),
				Detail:   detail,
				Subject:  tr.SourceRange().Ptr(),
			})
			continue
		}
		if len(tr) < 2 {
			continue // HCL explains what is wrong with env alone
		}
		var name string
		switch step := tr[1].(type) {
		case hcl.TraverseAttr:
			name = step.Name
		case hcl.TraverseIndex:
			if step.Key.Type() != cty.String || !step.Key.IsKnown() {
				continue
			}
			name = step.Key.AsString()
		default:
			continue
		}
		if _, set := env[name]; !set {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Environment variable " + name + " is not set",
				Detail:   fmt.Sprintf("This setting uses ${env.%s}, but %s is not in gostash's environment. Set it (export %s=...) or change the setting.%s", name, name, name, envSuggestion(name, env)),
				Subject:  tr.SourceRange().Ptr(),
			})
		}
	}
	return diags
}

func envSuggestion(name string, env map[string]string) string {
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	if s := suggest(name, names); s != "" {
		return " Did you mean " + s + "?"
	}
	return ""
}

// envNames returns the environment variables expr reads, in order, or nil.
// Values that come from them may be secrets: diagnostics name the
// variable instead of quoting the value.
func envNames(expr hcl.Expression) []string {
	var names []string
	for _, tr := range expr.Variables() {
		if tr.RootName() != "env" || len(tr) < 2 {
			continue
		}
		switch step := tr[1].(type) {
		case hcl.TraverseAttr:
			names = append(names, step.Name)
		case hcl.TraverseIndex:
			if step.Key.Type() == cty.String && step.Key.IsKnown() {
				names = append(names, step.Key.AsString())
			}
		}
	}
	return names
}

// fromEnv is how a diagnostic shows a value read (wholly or partly) from
// the environment: by where it came from, never the value, which may be a
// password. It returns "" for a value written in the file.
func fromEnv(expr hcl.Expression) string {
	names := envNames(expr)
	if len(names) == 0 {
		return ""
	}
	refs := make([]string, len(names))
	for i, n := range names {
		refs[i] = "${env." + n + "}"
	}
	return "from " + strings.Join(refs, ", ") + ", value hidden"
}

// redactEnv replaces, in text a plugin or the SDK wrote about a value,
// the values of the environment variables expr reads with their ${env.X}
// form. Values shorter than 4 bytes are left: replacing "1" would garble
// the text, and they are no secrets.
func redactEnv(text string, expr hcl.Expression, env map[string]string) string {
	for _, n := range envNames(expr) {
		if v := env[n]; len(v) >= 4 {
			text = strings.ReplaceAll(text, v, "${env."+n+"}")
		}
	}
	return text
}
