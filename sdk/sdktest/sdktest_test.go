package sdktest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// Components of these tests: a filter that upper-cases message and fails
// on events without one, an input that publishes count events in batches
// of two, and an output that records what it is given.

type upper struct{ suffix string }

func (u upper) Apply(_ context.Context, e *sdk.Event, _ func(*sdk.Event)) sdk.Result {
	m := e.Message()
	if m == "" {
		e.AddTag("_upperfailure")
		return sdk.Failed
	}
	e.Fields()["message"] = strings.ToUpper(m) + u.suffix
	return sdk.Matched
}

type counter struct{ n int }

func (c counter) Run(ctx context.Context, p sdk.Publisher) error {
	for i := 0; i < c.n || c.n == 0; i += 2 {
		batch := []*sdk.Event{sdk.NewEvent("a"), sdk.NewEvent("b")}
		if err := p.Publish(ctx, batch, func() {}); err != nil {
			return nil // stopping
		}
	}
	return nil
}

type recorder struct{ got *[]*sdk.Event }

func (r recorder) Write(_ context.Context, events []*sdk.Event) error {
	*r.got = append(*r.got, events...)
	return nil
}

var written []*sdk.Event

func init() {
	sdk.RegisterFilter("sdktest_upper", sdk.NewSpec("test filter").
		Field(sdk.String("suffix").Default("!")).
		Field(sdk.Int("level").Required()),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Filter, error) {
			return upper{c.String("suffix")}, nil
		}).WithValidate(func(c *sdk.Config) sdk.Diagnostics {
		var ds sdk.Diagnostics
		if c.Int("level") > 3 {
			ds.Errorf([]string{"level"}, "level must be 3 or less")
		}
		return ds
	})
	sdk.RegisterInput("sdktest_counter", sdk.NewSpec("test input").Field(sdk.Int("count").Default(4)),
		func(_ context.Context, c *sdk.Config, _ sdk.Env) (sdk.Input, error) {
			return counter{c.Int("count")}, nil
		})
	sdk.RegisterOutput("sdktest_recorder", sdk.NewSpec("test output"),
		func(context.Context, *sdk.Config, sdk.Env) (sdk.Output, error) {
			return recorder{&written}, nil
		})
}

func TestConfigAppliesDefaultsAsTheCoreSendsThem(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "sdktest_upper")
	cfg := sdktest.Config(t, comp, map[string]any{"level": 2})
	if got := cfg.String("suffix"); got != "!" {
		t.Errorf("suffix = %q, want the default %q", got, "!")
	}
	if got, ok := cfg.Raw("level").(float64); !ok || got != 2 {
		t.Errorf("level = %#v, want 2 decoded from JSON as float64", cfg.Raw("level"))
	}
}

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "sdktest_upper")
	tests := []struct {
		name     string
		settings map[string]any
		wantPath string
		wantMsg  string
	}{
		{"unknown setting", map[string]any{"level": 1, "sufix": "?"}, "sufix", "unknown setting"},
		{"missing required", map[string]any{}, "level", "missing required"},
		{"wrong type", map[string]any{"level": "high"}, "level", "expects int"},
		{"component check", map[string]any{"level": 5}, "level", "3 or less"},
		{"common option", map[string]any{"level": 1, "when": "message +"}, "when", "Invalid when"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := sdktest.Validate(comp, tt.settings)
			if len(ds) != 1 {
				t.Fatalf("got %d diagnostics %v, want 1", len(ds), ds)
			}
			if got := strings.Join(ds[0].Path, "."); got != tt.wantPath || !strings.Contains(ds[0].Summary, tt.wantMsg) {
				t.Errorf("diagnostic at %q: %q; want at %q containing %q", got, ds[0].Summary, tt.wantPath, tt.wantMsg)
			}
		})
	}
	if ds := sdktest.Validate(comp, map[string]any{"level": 3}); len(ds) != 0 {
		t.Errorf("valid settings gave %v", ds)
	}
}

func TestRunFiltersAppliesWhenAndCommonOptions(t *testing.T) {
	events := []*sdk.Event{
		sdktest.Event(map[string]any{"message": "hi", "[http][status]": 500}),
		sdktest.Event(map[string]any{"message": "skip", "[http][status]": 200}),
		sdktest.Event(map[string]any{"[http][status]": 503}),
	}
	out := sdktest.RunFilters(t, t.Context(), []sdktest.FilterSpec{{
		Name: "sdktest_upper",
		Settings: map[string]any{
			"level": 1, "when": "http.status >= 500", "add_tag": []string{"shouted"},
		},
	}}, events)
	if len(out) != 3 {
		t.Fatalf("got %d events, want 3", len(out))
	}
	want := []struct {
		msg  string
		tags []string
	}{{"HI!", []string{"shouted"}}, {"skip", nil}, {"", []string{"_upperfailure"}}}
	for i, w := range want {
		if out[i].Message() != w.msg || strings.Join(out[i].Tags(), ",") != strings.Join(w.tags, ",") {
			t.Errorf("event %d: message %q tags %v; want %q %v", i, out[i].Message(), out[i].Tags(), w.msg, w.tags)
		}
	}
}

func TestRunInputCollectsAndStops(t *testing.T) {
	res := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "sdktest_counter", Settings: map[string]any{"tags": []string{"t"}}})
	if len(res.Events) != 4 || len(res.Batches) != 2 || res.Acked != 2 || res.Err != nil {
		t.Fatalf("got %d events in %v, %d acked, err %v; want 4 in [2 2], 2 acked", len(res.Events), res.Batches, res.Acked, res.Err)
	}
	if !res.Events[3].HasTag("t") {
		t.Errorf("common option tags not applied: %v", res.Events[3].Tags())
	}
	endless := sdktest.RunInput(t, t.Context(), sdktest.InputSpec{Name: "sdktest_counter", Settings: map[string]any{"count": 0}, StopAfter: 10})
	if len(endless.Events) != 10 {
		t.Errorf("StopAfter 10: got %d events", len(endless.Events))
	}
}

func TestRunOutputWritesWhatWhenSelects(t *testing.T) {
	written = nil
	err := sdktest.RunOutput(t, t.Context(), sdktest.OutputSpec{Name: "sdktest_recorder", Settings: map[string]any{"when": `message != "b"`}},
		[]*sdk.Event{sdk.NewEvent("a"), sdk.NewEvent("b"), sdk.NewEvent("c")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range written {
		got = append(got, e.Message())
	}
	if strings.Join(got, "") != "ac" {
		t.Errorf("written %v, want [a c]", got)
	}
}
