package contract

import (
	"net/url"
	"strings"
)

// Properties milvus_apply sets on every target collection it creates. The
// control plane reads them too (which copies a target holds, and whose).
const (
	// PropSourceCollectionID: the ID of the source collection a copy holds.
	// Collection IDs only grow, so a name reused on the source is told
	// apart from an old incarnation's late messages.
	PropSourceCollectionID = "milvus_cdc.source_collection_id"
	// PropReplication: the replication (a task's ID) that made or adopted
	// the copy; it alone writes to and drops it.
	PropReplication = "milvus_cdc.replication"
	// PropSourceCluster: the source cluster the copy was made from
	// (SourceCluster); a copy of another cluster is never adopted.
	PropSourceCluster = "milvus_cdc.source_cluster"
)

// SourceCluster names a source cluster by what its WAL is: the topics'
// cluster prefix and the source Milvus's address (host lower-cased, scheme
// and trailing slash dropped, default port 19530 filled in), so two spellings
// of one address name one cluster.
func SourceCluster(address, clusterPrefix string) string {
	return clusterPrefix + "@" + NormalizeAddress(address)
}

// NormalizeAddress returns host:port of a Milvus address given as host,
// host:port or a URL (http, https, tcp, grpc), the host lower-cased.
func NormalizeAddress(address string) string {
	a := strings.TrimSpace(address)
	if strings.Contains(a, "://") {
		if u, err := url.Parse(a); err == nil && u.Host != "" {
			a = u.Host
		}
	}
	a = strings.TrimSuffix(strings.ToLower(a), "/")
	if i := strings.LastIndex(a, ":"); i < 0 || strings.HasSuffix(a, "]") {
		a += ":19530"
	}
	return a
}

// CopyOrigin is the PropSourceCluster value of the copies a control plane's
// tasks make: the source cluster (SourceCluster) and the identity of the
// task store whose tasks made them. A control plane adopts only its own
// store's copies: whether another's task still runs cannot be told.
func CopyOrigin(cluster, storeID string) string {
	if storeID == "" {
		return cluster
	}
	return cluster + "#" + storeID
}

// SplitCopyOrigin splits a PropSourceCluster value into the source cluster
// and the task store ("" when the copy names none).
func SplitCopyOrigin(v string) (cluster, storeID string) {
	cluster, storeID, _ = strings.Cut(v, "#")
	return cluster, storeID
}
