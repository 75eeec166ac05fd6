package confcheck

import (
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"
)

const testRule Rule = `root = [
  if this.count.or(1) <= 0 { "count must be positive" },
  if this.name.or("") == "bad" { "name must not be bad" },
].filter(e -> e != null)`

func spec() *service.ConfigSpec {
	return service.NewConfigSpec().Fields(
		service.NewIntField("count").Default(3),
		service.NewStringField("name").Default(""),
	).LintRule(testRule.Text())
}

// TestCheckMatchesLint: what the lint rule reports, Check refuses, and a
// valid config (defaults included) passes.
func TestCheckMatchesLint(t *testing.T) {
	for yaml, want := range map[string]string{
		"count: 0":             "count must be positive",
		"name: bad":            "name must not be bad",
		"count: -1\nname: bad": "count must be positive; name must not be bad",
		"name: fine":           "",
		"{}":                   "",
	} {
		conf, err := spec().ParseYAML(yaml, nil)
		if err != nil {
			t.Fatalf("%s: %v", yaml, err)
		}
		err = testRule.Check(conf)
		if want == "" {
			if err != nil {
				t.Errorf("%q refused: %v", yaml, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", yaml, err, want)
		}
	}
}

// TestBrokenRule: a rule that is not Bloblang is reported by Parse and
// refuses every config in Check, without a panic.
func TestBrokenRule(t *testing.T) {
	const broken Rule = `root = [ if this.count <= { "x" } ]`
	if _, err := broken.Parse(); err == nil {
		t.Fatal("a broken rule parsed")
	}
	conf, err := spec().ParseYAML("{}", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := broken.Check(conf); err == nil || !strings.Contains(err.Error(), "does not parse") {
		t.Fatalf("Check with a broken rule: %v", err)
	}
}
