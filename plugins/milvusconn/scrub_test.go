package milvusconn

import "testing"

// TestScrub: the credentials of the last dial never come out of Scrub.
func TestScrub(t *testing.T) {
	c := &Conn{secrets: []string{"s3cret-pw", "root:Milvus"}}
	got := c.Scrub("auth failed for root with s3cret-pw (token root:Milvus)")
	if got != "auth failed for root with *** (token ***)" {
		t.Fatalf("scrubbed %q", got)
	}
}
