package contract

import "fmt"

// Topics names the Pulsar topics of a Milvus 2.3 WAL: one per physical DML
// channel (`<prefix>-rootcoord-dml_<i>`) and the replicate channel
// (`<prefix>-<replicate>`), all under persistent://<tenant>/<namespace>/.
type Topics struct {
	Tenant, Namespace string
	Prefix            string // msgChannel.chanNamePrefix.cluster
	DMLChannels       int    // rootCoord.dmlChannelNum
	Replicate         string // msgChannel.chanNamePrefix.replicateMsg; "" = none
}

// DefaultTopics are the names of a Milvus with default settings.
func DefaultTopics() Topics {
	return Topics{Tenant: "public", Namespace: "default", Prefix: "by-dev", DMLChannels: 16, Replicate: "replicate-msg"}
}

// DML returns the short name of DML channel i.
func (t Topics) DML(i int) string { return fmt.Sprintf("%s-rootcoord-dml_%d", t.Prefix, i) }

// DMLNames lists the short names of every DML channel.
func (t Topics) DMLNames() []string {
	out := make([]string, t.DMLChannels)
	for i := range out {
		out[i] = t.DML(i)
	}
	return out
}

// ReplicateName is the short name of the replicate channel; "" when disabled.
func (t Topics) ReplicateName() string {
	if t.Replicate == "" {
		return ""
	}
	return t.Prefix + "-" + t.Replicate
}

// Topic returns the full topic of a short channel name.
func (t Topics) Topic(short string) string {
	return fmt.Sprintf("persistent://%s/%s/%s", t.Tenant, t.Namespace, short)
}
