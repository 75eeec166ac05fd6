// Package confcheck runs a plugin's lint rule on its parsed config, so the
// Bloblang rule that `milvus-cdc lint` reports is also what the constructor
// refuses: config validation is written once.
package confcheck

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redpanda-data/benthos/v4/public/bloblang"
	// The Bloblang methods rules use beyond the core ones (parse_duration):
	// the binary has them anyway.
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// Rule is a parsed lint rule: a Bloblang mapping from the plugin's config to
// a list of error strings (empty when the config is fine).
type Rule struct {
	text string
	exec *bloblang.Executor
}

// MustParse parses a lint rule written in the plugin's source; a rule that
// does not parse is a programming error caught by the package's tests.
func MustParse(text string) Rule {
	exec, err := bloblang.Parse(text)
	if err != nil {
		panic(fmt.Sprintf("lint rule does not parse: %v", err))
	}
	return Rule{text: text, exec: exec}
}

// Text is the rule for ConfigSpec.LintRule.
func (r Rule) Text() string { return r.text }

// Check applies the rule to a parsed config and returns its errors joined.
func (r Rule) Check(conf *service.ParsedConfig) error {
	raw, err := conf.FieldAny()
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	out, err := r.exec.Query(raw)
	if err != nil {
		return fmt.Errorf("check config: %w", err)
	}
	list, ok := out.([]any)
	if !ok {
		return fmt.Errorf("check config: lint rule returned %T, not a list", out)
	}
	var msgs []string
	for _, m := range list {
		msgs = append(msgs, fmt.Sprint(m))
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}
