package main

import (
	"reflect"
	"testing"
)

func TestHoistConfigFlag(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"b", "run", "-c", "x.yaml"}, []string{"b", "-c", "x.yaml", "run"}},
		{[]string{"b", "run", "--log.level", "debug", "--config=x.yaml"}, []string{"b", "--config=x.yaml", "run", "--log.level", "debug"}},
		{[]string{"b", "run", "x.yaml"}, []string{"b", "run", "x.yaml"}},
		{[]string{"b", "lint", "-c", "x"}, []string{"b", "lint", "-c", "x"}},
		{[]string{"b", "run", "-c"}, []string{"b", "run", "-c"}},
	}
	for _, c := range cases {
		if got := hoistConfigFlag(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("hoistConfigFlag(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestIsVerify(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"b", "verify", "--source", "x"}, true},
		{[]string{"b", "verify"}, true},
		{[]string{"b"}, false},
		{[]string{"b", "run", "verify"}, false},
		{[]string{"b", "-c", "verify"}, false},
	} {
		if got := isVerify(c.args); got != c.want {
			t.Errorf("isVerify(%v) = %v", c.args, got)
		}
	}
}
