package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// TLSFiles are TLS settings given by file paths: the stream configs the
// workers run name the files (present on every worker), never their content.
type TLSFiles struct {
	Enabled        bool   `yaml:"enabled"`
	RootCAsFile    string `yaml:"root_cas_file"`    // CA bundle to trust (default: the system's)
	SkipCertVerify bool   `yaml:"skip_cert_verify"` // testing only
	CertFile       string `yaml:"cert_file"`        // client certificate (mutual TLS), with key_file
	KeyFile        string `yaml:"key_file"`
}

// check validates the settings; perTask: TLS is turned on by each task
// (the target's), so enabled is not needed beside the files.
func (t TLSFiles) check(what string, perTask bool) error {
	if (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("%s: cert_file and key_file go together", what)
	}
	if !perTask && !t.Enabled && (t.RootCAsFile != "" || t.CertFile != "" || t.SkipCertVerify) {
		return fmt.Errorf("%s: TLS files or skip_cert_verify are set but enabled is false", what)
	}
	return nil
}

// yaml renders the settings as a Benthos `tls` block in flow style (values
// quoted, so no path can break out of its field).
func (t TLSFiles) yaml() string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	parts := []string{fmt.Sprintf("enabled: %v", t.Enabled)}
	if t.RootCAsFile != "" {
		parts = append(parts, "root_cas_file: "+q(t.RootCAsFile))
	}
	if t.SkipCertVerify {
		parts = append(parts, "skip_cert_verify: true")
	}
	if t.CertFile != "" {
		parts = append(parts, fmt.Sprintf("client_certs: [ { cert_file: %s, key_file: %s } ]", q(t.CertFile), q(t.KeyFile)))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// checkTLS validates the TLS settings of a server config.
func (c ServerConfig) checkTLS() error {
	if err := errors.Join(c.Source.TLS.check("source.tls", false), c.Source.PulsarTLS.check("source.pulsar_tls", false),
		c.TargetTLS.check("target_tls", true)); err != nil {
		return err
	}
	if c.Source.PulsarTLS.Enabled && !strings.HasPrefix(c.Source.PulsarURL, "pulsar+ssl://") {
		return fmt.Errorf("source.pulsar_tls is enabled but source.pulsar_url %q does not start with pulsar+ssl://", c.Source.PulsarURL)
	}
	return nil
}
