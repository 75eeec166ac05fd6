package logreader

import (
	"fmt"
	"sync/atomic"

	plog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// pulsarLogger routes pulsar-client-go's logs into the Benthos logger; the
// client's info chatter (every reader open and close) goes to debug. Once
// closing is set, warnings and errors go to debug too: readers torn down
// mid-request complain about it, which is no news to an operator.
type pulsarLogger struct {
	l       *service.Logger
	fields  string
	closing *atomic.Bool
}

func newPulsarLogger(l *service.Logger, closing *atomic.Bool) plog.Logger {
	return &pulsarLogger{l: l, closing: closing}
}

func (p *pulsarLogger) with(s string) *pulsarLogger {
	return &pulsarLogger{l: p.l, fields: p.fields + s, closing: p.closing}
}

func (p *pulsarLogger) SubLogger(fs plog.Fields) plog.Logger { return p.withFields(fs) }
func (p *pulsarLogger) WithFields(fs plog.Fields) plog.Entry { return p.withFields(fs) }

func (p *pulsarLogger) withFields(fs plog.Fields) *pulsarLogger {
	s := ""
	for k, v := range fs {
		s += fmt.Sprintf(" %s=%v", k, v)
	}
	return p.with(s)
}
func (p *pulsarLogger) WithField(name string, value interface{}) plog.Entry {
	return p.with(fmt.Sprintf(" %s=%v", name, value))
}
func (p *pulsarLogger) WithError(err error) plog.Entry { return p.with(fmt.Sprintf(" error=%v", err)) }

// Debug is dropped: the client logs every protocol command at debug level,
// and formatting those costs more than a few percent of a busy reader.
func (p *pulsarLogger) Debug(args ...interface{}) {}
func (p *pulsarLogger) Info(args ...interface{})  { p.l.Debug(p.line(fmt.Sprint(args...))) }
func (p *pulsarLogger) Warn(args ...interface{})  { p.emit(p.l.Warn, fmt.Sprint(args...)) }
func (p *pulsarLogger) Error(args ...interface{}) { p.emit(p.l.Error, fmt.Sprint(args...)) }

func (p *pulsarLogger) Debugf(f string, args ...interface{}) {}
func (p *pulsarLogger) Infof(f string, args ...interface{}) {
	p.l.Debug(p.line(fmt.Sprintf(f, args...)))
}
func (p *pulsarLogger) Warnf(f string, args ...interface{}) {
	p.emit(p.l.Warn, fmt.Sprintf(f, args...))
}
func (p *pulsarLogger) Errorf(f string, args ...interface{}) {
	p.emit(p.l.Error, fmt.Sprintf(f, args...))
}

func (p *pulsarLogger) line(msg string) string { return "pulsar: " + msg + p.fields }

// emit logs at the given level, or at debug once the run is closing.
func (p *pulsarLogger) emit(level func(string), msg string) {
	if p.closing.Load() {
		level = p.l.Debug
	}
	level(p.line(msg))
}
