package contract

import "testing"

func TestNormalizeAddress(t *testing.T) {
	for in, want := range map[string]string{
		"t:19530":                "t:19530",
		"http://T:19530/":        "t:19530",
		"https://milvus.x":       "milvus.x:19530",
		"Milvus.Example":         "milvus.example:19530",
		" tcp://10.0.0.1:19540 ": "10.0.0.1:19540",
		"[::1]":                  "[::1]:19530",
		"[::1]:19541":            "[::1]:19541",
	} {
		if got := NormalizeAddress(in); got != want {
			t.Errorf("NormalizeAddress(%q) = %q, want %q", in, got, want)
		}
	}
	if SourceCluster("http://S:19530", "by-dev") != SourceCluster("s", "by-dev") {
		t.Error("two spellings of one address name two clusters")
	}
	if SourceCluster("s", "by-dev") == SourceCluster("s", "other") {
		t.Error("two cluster prefixes name one cluster")
	}
}
