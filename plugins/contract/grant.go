package contract

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Stream grants: a worker runs only the stream configs its control plane
// rendered. The control plane signs each config it posts (GrantHeader, made
// by Keyring.GrantStream); the worker's gateway checks the signature with
// the same keyring (Keyring.VerifyStreamGrant) before the config reaches
// the stream engine. The grant covers the stream id and the exact body, so
// it neither moves to another id nor survives an edit.
const (
	GrantHeader  = "X-Milvus-Cdc-Grant"
	grantVersion = "g1:"
	grantContext = "milvus-cdc stream grant v1"
)

// grantKey derives the signing key of a stream grant from a sealing key, so
// the sealing key itself never signs anything.
func grantKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(grantContext))
	return m.Sum(nil)
}

func grantMAC(key []byte, id string, body []byte) []byte {
	m := hmac.New(sha256.New, grantKey(key))
	m.Write([]byte(id))
	m.Write([]byte{'\n'})
	m.Write(body)
	return m.Sum(nil)
}

// GrantStream signs the config body of stream id with the first key:
// "g1:<key id>:<base64 HMAC-SHA256>".
func (k Keyring) GrantStream(id string, body []byte) (string, error) {
	if k.Empty() {
		return "", errors.New("no key to sign the stream config with")
	}
	return grantVersion + k.ids[0] + ":" + base64.StdEncoding.EncodeToString(grantMAC(k.keys[0], id, body)), nil
}

// VerifyStreamGrant checks that grant signs the config body of stream id
// with one of the keyring's keys (the first or an older one: rotation).
func (k Keyring) VerifyStreamGrant(id string, body []byte, grant string) error {
	if grant == "" {
		return fmt.Errorf("no %s header: only the control plane's signed stream configs run here", GrantHeader)
	}
	kid, sig, ok := strings.Cut(strings.TrimPrefix(grant, grantVersion), ":")
	if !strings.HasPrefix(grant, grantVersion) || !ok {
		return errors.New("malformed stream grant")
	}
	mac, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errors.New("malformed stream grant")
	}
	known := false
	for i, id2 := range k.ids {
		if id2 != kid {
			continue
		}
		known = true
		if hmac.Equal(mac, grantMAC(k.keys[i], id, body)) {
			return nil
		}
	}
	if !known {
		return fmt.Errorf("the stream grant is signed with key %s, which this worker lacks (%s, or the key file)", kid, SecretKeysEnv)
	}
	return errors.New("the stream grant does not match this stream id and config")
}
