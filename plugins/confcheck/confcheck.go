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

// Rule is a lint rule: a Bloblang mapping from the plugin's config to a
// list of error strings (empty when the config is fine). A string type, so
// a plugin can declare its rule as a constant.
type Rule string

// Text is the rule for ConfigSpec.LintRule.
func (r Rule) Text() string { return string(r) }

// Parse checks that the rule is valid Bloblang (a plugin's tests call it;
// registering a spec with a broken rule fails too).
func (r Rule) Parse() (*bloblang.Executor, error) {
	exec, err := bloblang.Parse(string(r))
	if err != nil {
		return nil, fmt.Errorf("lint rule does not parse: %w", err)
	}
	return exec, nil
}

// Check applies the rule to a parsed config and returns its errors joined.
func (r Rule) Check(conf *service.ParsedConfig) error {
	exec, err := r.Parse()
	if err != nil {
		return err
	}
	raw, err := conf.FieldAny()
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	out, err := exec.Query(raw)
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
