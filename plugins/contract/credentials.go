package contract

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Credentials of a Milvus connection: a user and password, or an API key.
type Credentials struct {
	Username, Password, APIKey string
}

// ParseToken reads a Milvus token: `user:password`, or an API key.
func ParseToken(token string) Credentials {
	if u, p, ok := strings.Cut(token, ":"); ok {
		return Credentials{Username: u, Password: p}
	}
	return Credentials{APIKey: token}
}

// StoredCredentials is the JSON the control plane stores under SecretKey and
// KeySourceCredentials.
type StoredCredentials struct {
	Token    string `json:"token,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// ParseCredentials reads stored credentials: a token string, or a
// StoredCredentials object.
func ParseCredentials(raw []byte) (Credentials, error) {
	token := strings.TrimSpace(string(raw))
	if strings.HasPrefix(token, "{") {
		var obj StoredCredentials
		if err := json.Unmarshal(raw, &obj); err != nil {
			return Credentials{}, fmt.Errorf("stored credentials are not valid JSON: %w", err)
		}
		if obj.Username != "" {
			return Credentials{Username: obj.Username, Password: obj.Password}, nil
		}
		token = obj.Token
	}
	return ParseToken(token), nil
}
