package contract

import "testing"

func TestParseCredentials(t *testing.T) {
	for in, want := range map[string]Credentials{
		"root:Milvus":                       {Username: "root", Password: "Milvus"},
		"sk-123":                            {APIKey: "sk-123"},
		`{"token":"u:p"}`:                   {Username: "u", Password: "p"},
		`{"username":"a","password":"b:c"}`: {Username: "a", Password: "b:c"},
		`{"token":"key-without-colon"}`:     {APIKey: "key-without-colon"},
	} {
		got, err := ParseCredentials([]byte(in))
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	if _, err := ParseCredentials([]byte(`{"token":`)); err == nil {
		t.Error("broken JSON accepted")
	}
}

func TestParseToken(t *testing.T) {
	for in, want := range map[string]Credentials{
		"root:Milvus":     {Username: "root", Password: "Milvus"},
		"u:p:with:colons": {Username: "u", Password: "p:with:colons"},
		"sk-123":          {APIKey: "sk-123"},
		"":                {},
	} {
		if got := ParseToken(in); got != want {
			t.Errorf("%q: %+v, want %+v", in, got, want)
		}
	}
}
