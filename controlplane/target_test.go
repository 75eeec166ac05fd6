package controlplane

import "testing"

// TestTargetIdentity: every spelling of one target has one identity, and
// different hosts or ports keep theirs.
func TestTargetIdentity(t *testing.T) {
	same := []ConnectParam{
		{URI: "t:19530"}, {URI: "http://T:19530/"}, {URI: "https://t:19530", EnableTLS: true}, {URI: "HTTP://t.:19530/path"},
		{URI: "http://t"}, {URI: "t"}, {Host: "T", Port: 19530}, {Host: "t"},
	}
	for _, p := range same {
		if got := targetIdentity(p); got != "t:19530" {
			t.Errorf("%+v: %q, want t:19530", p, got)
		}
	}
	for _, c := range []struct {
		p    ConnectParam
		want string
	}{
		{ConnectParam{URI: "http://[::1]:19530"}, "[::1]:19530"},
		{ConnectParam{URI: "[0:0::1]:19530"}, "[::1]:19530"},
		{ConnectParam{Host: "::1", Port: 19530}, "[::1]:19530"},
		{ConnectParam{URI: "http://[::1]"}, "[::1]:19530"},
		{ConnectParam{URI: "t:1"}, "t:1"},
		{ConnectParam{URI: "u:19530"}, "u:19530"},
		{ConnectParam{URI: "http://10.0.0.1:443"}, "10.0.0.1:443"},
	} {
		if got := targetIdentity(c.p); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}
