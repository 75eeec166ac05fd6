// Package sealing finds the keys task credentials are sealed with at rest:
// the keys given in the environment, or else a key file that the control
// plane generates on its first start (mode 0600) and the workers on the same
// machine read. Credentials are therefore never stored in plain text, even
// when the operator set no key.
package sealing

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// KeyFileEnv names the key file; unset: DefaultKeyFile.
const KeyFileEnv = "MILVUS_CDC_SECRET_KEY_FILE"

// DefaultKeyFile is <user config dir>/milvus-cdc/secret-keys
// (~/.config/milvus-cdc/secret-keys on Linux).
func DefaultKeyFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no place for the secret key file (set %s or %s): %w", contract.SecretKeysEnv, KeyFileEnv, err)
	}
	return filepath.Join(dir, "milvus-cdc", "secret-keys"), nil
}

// Load returns the keyring: from keys (the value of SecretKeysEnv or of the
// variable a stream names) when set, else from the key file (file, or
// KeyFileEnv's, or DefaultKeyFile). create: a missing key file is generated
// with one new key (the control plane at start); else a missing file is an
// error naming it. where says which was used, for the log.
func Load(keys, file string, create bool) (ring contract.Keyring, where string, err error) {
	if strings.TrimSpace(keys) != "" {
		ring, err = contract.ParseKeyring(keys)
		return ring, "the environment (" + contract.SecretKeysEnv + ")", err
	}
	if file == "" {
		file = os.Getenv(KeyFileEnv)
	}
	if file == "" {
		if file, err = DefaultKeyFile(); err != nil {
			return contract.Keyring{}, "", err
		}
	}
	b, err := readKeyFile(file)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err = generate(file); err == nil || errors.Is(err, fs.ErrExist) {
			b, err = readKeyFile(file) // ours, or one another process wrote first
		}
	}
	if err != nil {
		return contract.Keyring{}, "", err
	}
	ring, err = contract.ParseKeyring(strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", ","))
	if err == nil && ring.Empty() {
		err = fmt.Errorf("secret key file %s holds no key", file)
	}
	if err != nil {
		return contract.Keyring{}, "", fmt.Errorf("secret key file %s: %w", file, err)
	}
	return ring, "the key file " + file, nil
}

// readKeyFile reads the key file, refusing one that others may read.
func readKeyFile(file string) ([]byte, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s (set %s, or start the control plane once on this machine to create it): %w",
			file, contract.SecretKeysEnv, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s may be read by others (mode %04o): chmod 600 it", file, st.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	return b, nil
}

// generate writes a new key file with one random key; fs.ErrExist when one
// exists already (another process won the race).
func generate(file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create the secret key file's directory: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generate a secret key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(file)
		return fmt.Errorf("write the secret key file %s: %w", file, werr)
	}
	return nil
}
