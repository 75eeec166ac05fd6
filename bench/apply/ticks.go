package main

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// tickInterval reads proxy.timeTickInterval (ms) from a Milvus config file
// (milvus.yaml as the stack renders it): the pace at which a proxy lets a
// write's channel tick past it, so the floor of any reader that waits for
// ticks, the target's own query path included.
func tickInterval(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "n/a (" + err.Error() + ")"
	}
	var conf struct {
		Proxy struct {
			TimeTickInterval *int `yaml:"timeTickInterval"`
		} `yaml:"proxy"`
	}
	if err := yaml.Unmarshal(b, &conf); err != nil {
		return fmt.Sprintf("n/a (%s: %v)", path, err)
	}
	if conf.Proxy.TimeTickInterval == nil {
		return fmt.Sprintf("n/a (no proxy.timeTickInterval in %s)", path)
	}
	return fmt.Sprintf("%d ms", *conf.Proxy.TimeTickInterval)
}
