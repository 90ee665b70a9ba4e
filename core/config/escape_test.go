package config

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestEscapeTemplates(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"grok pattern", `a = "%{COMBINEDAPACHELOG}"`, `a = "%%{COMBINEDAPACHELOG}"`},
		{"field reference and date", `a = "%{[host][name]} logs-%{+YYYY.MM.dd}"`, `a = "%%{[host][name]} logs-%%{+YYYY.MM.dd}"`},
		{"HCL escape kept", `a = "%%{x}"`, `a = "%%{x}"`},
		{"percent before HCL escape", `a = "%%%{x}"`, `a = "%%%{x}"`},
		{"dollar escape kept", `a = "$${x} %{y}"`, `a = "$${x} %%{y}"`},
		{"interpolation then template", `a = "${env.X}-%{x}"`, `a = "${env.X}-%%{x}"`},
		{"string inside interpolation", `a = "${"%{a}"}"`, `a = "${"%%{a}"}"`},
		{"escaped quote", `a = "\"%{x}\" %{y}"`, `a = "\"%%{x}\" %%{y}"`},
		{"strip marker", `a = "%{~x}"`, `a = "%%{~x}"`},
		{"comments untouched", "# %{a}\n// %{b}\n/* %{c}\n %{d} */\na = \"%{e}\" # %{f}\n", "# %{a}\n// %{b}\n/* %{c}\n %{d} */\na = \"%%{e}\" # %{f}\n"},
		{"heredoc", "a = <<EOT\n%{[h][n]} and %{+YYYY}\nnot EOT\nEOT\nb = \"%{z}\"\n", "a = <<EOT\n%%{[h][n]} and %%{+YYYY}\nnot EOT\nEOT\nb = \"%%{z}\"\n"},
		{"indented heredoc", "a = <<-EOT\n  %{x}\n  EOT\n# %{c}\n", "a = <<-EOT\n  %%{x}\n  EOT\n# %{c}\n"},
		{"heredoc with interpolation", "a = <<EOT\n${env.X} %{y} %%{z}\nEOT\n", "a = <<EOT\n${env.X} %%{y} %%{z}\nEOT\n"},
		// An unbalanced %{ is literal text; what follows stays in sync.
		{"unbalanced", "a = \"100%{\" # %{c}\nb = \"%{y}\"\n", "a = \"100%%{\" # %{c}\nb = \"%%{y}\"\n"},
		{"nothing to do", `a = { b = "c" }`, `a = { b = "c" }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := escapeTemplates([]byte(tt.src))
			if string(got) != tt.want {
				t.Fatalf("escapeTemplates(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
			// HCL's lexer must now see no template directive at all.
			toks, _ := hclsyntax.LexConfig(got, "t.hcl", hcl.InitialPos)
			for _, tok := range toks {
				if tok.Type == hclsyntax.TokenTemplateControl {
					t.Errorf("HCL still reads a directive at %s in %q", tok.Range, got)
				}
			}
		})
	}
}

// The values plugins receive are exactly what the user wrote, except for
// HCL's own escapes and ${...}.
func TestTemplateValues(t *testing.T) {
	t.Setenv("GOSTASH_TEST_X", "val")
	tests := []struct{ expr, want string }{
		{`"%{COMBINEDAPACHELOG}"`, "%{COMBINEDAPACHELOG}"},
		{`"%{[host][name]}"`, "%{[host][name]}"},
		{`"logs-%{+YYYY.MM.dd}"`, "logs-%{+YYYY.MM.dd}"},
		{`"%{+%s}"`, "%{+%s}"},
		{`"%{NUMBER:bytes:int} \"%{DATA:agent}\""`, `%{NUMBER:bytes:int} "%{DATA:agent}"`},
		{`"${env.GOSTASH_TEST_X}-%{x}"`, "val-%{x}"},
		{`"${env["GOSTASH_TEST_X"]}"`, "val"},
		{`"%%{x}"`, "%{x}"},
		{`"$${x}"`, "${x}"},
		{`"100%{"`, "100%{"},
		{"<<EOT\n%{[a][b]} ${env.GOSTASH_TEST_X}\nEOT\n", "%{[a][b]} val\n"},
	}
	for _, tt := range tests {
		src := "input \"generator\" \"g\" {\n  message = " + tt.expr + "\n}\noutput \"stdout\" \"o\" {}\n"
		p, diags := Load(nil, src)
		diags = append(diags, p.Decode(testSchemas)...)
		if diags.HasErrors() {
			t.Errorf("%s: %s", tt.expr, diags.Error())
			continue
		}
		if got := p.Inputs[0].Config["message"]; got != tt.want {
			t.Errorf("message = %s: got %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// Diagnostics after an escaped %{ keep the user's line, column and byte
// offset, so snippets and editors land on the right character.
func TestEscapedPositions(t *testing.T) {
	src := "input \"generator\" \"g\" {\n" +
		"  lines = [\"%{a}%{b}\", \"%{c}\", 7, { x = \"%{d}\" }]\n" +
		"}\n" +
		"output \"stdout\" \"o\" { codec = \"%{e}\" }\n"
	p, diags := Load(nil, src)
	diags = append(diags, p.Decode(testSchemas)...)
	want := []string{`{ x = "%{d}" }`, `"%{e}"`}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %s", len(diags), len(want), diags.Error())
	}
	for i, d := range diags {
		r := *d.Subject
		if got := src[r.Start.Byte:r.End.Byte]; got != want[i] {
			t.Errorf("diagnostic %d covers %q, want %q", i, got, want[i])
		}
		lineStart := strings.LastIndexByte(src[:r.Start.Byte], '\n') + 1
		if col := r.Start.Byte - lineStart + 1; r.Start.Column != col {
			t.Errorf("diagnostic %d at col %d, the text is at col %d", i, r.Start.Column, col)
		}
		if line := strings.Count(src[:r.Start.Byte], "\n") + 1; r.Start.Line != line {
			t.Errorf("diagnostic %d on line %d, the text is on line %d", i, r.Start.Line, line)
		}
	}
}

func TestFixPos(t *testing.T) {
	orig := []byte("a = \"%{b}%{c}\"\nd = \"%{e}\"\n")
	escaped, at := escapeTemplates(orig)
	if string(escaped) != "a = \"%%{b}%%{c}\"\nd = \"%%{e}\"\n" {
		t.Fatalf("escaped = %q", escaped)
	}
	src := newSource("f", orig, at)
	for i := 0; i <= len(escaped); i++ {
		if i < len(escaped) && escaped[i] == '%' && i+1 < len(escaped) && escaped[i+1] == '%' {
			continue // the inserted byte has no original of its own
		}
		line := strings.Count(string(escaped[:i]), "\n") + 1
		col := i - (strings.LastIndexByte(string(escaped[:i]), '\n') + 1) + 1
		got := src.fixPos(hcl.Pos{Line: line, Column: col, Byte: i})
		wantByte := i - strings.Count(string(escaped[:min(i+1, len(escaped))]), "%%")
		wantCol := wantByte - (strings.LastIndexByte(string(orig[:wantByte]), '\n') + 1) + 1
		if got.Byte != wantByte || got.Column != wantCol || got.Line != line {
			t.Errorf("fixPos(byte %d) = %+v, want byte %d line %d col %d", i, got, wantByte, line, wantCol)
		}
		if i < len(escaped) && orig[got.Byte] != escaped[i] {
			t.Errorf("byte %d maps to %q, want %q", i, orig[got.Byte], escaped[i])
		}
	}
}
