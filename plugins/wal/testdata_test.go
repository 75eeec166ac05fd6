package wal

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// The payloads in testdata/wal were recorded from the real stack by
// TestStackInputEveryTypeAndOp (MILVUS_CDC_RECORD_DIR): a workload with every
// field type, a partition, an upsert, deletes and every replicate-channel op.

type recorded struct {
	File    string            `json:"file"`
	Meta    map[string]string `json:"meta"`
	payload []byte
}

func loadRecorded(t *testing.T) []recorded {
	t.Helper()
	dir := filepath.Join("testdata", "wal")
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []recorded
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for i := range out {
		if out[i].payload, err = os.ReadFile(filepath.Join(dir, out[i].File)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// decodeRecorded decodes one recorded payload and fills in what the reader
// adds (names from the source, channel, position, upsert mark).
func decodeRecorded(t *testing.T, r recorded) *Event {
	t.Helper()
	ev, err := Decode(r.payload)
	if err != nil {
		t.Fatalf("%s: %v", r.File, err)
	}
	if ev.CollectionID != 0 {
		ev.DbName, ev.CollectionName = r.Meta[contract.MetaDB], r.Meta[contract.MetaCollection]
	}
	ev.Upsert = r.Meta[contract.MetaUpsert] == "true"
	return ev
}

func TestRecordedEnvelopes(t *testing.T) {
	for _, r := range loadRecorded(t) {
		ev := decodeRecorded(t, r)
		if ev.Op != r.Meta[contract.MetaOp] {
			t.Errorf("%s: op %s", r.File, ev.Op)
		}
		if strconv.FormatUint(ev.Ts, 10) != r.Meta[contract.MetaTs] {
			t.Errorf("%s: ts %d, recorded %s", r.File, ev.Ts, r.Meta[contract.MetaTs])
		}
		if id := r.Meta[contract.MetaCollectionID]; id != "" && strconv.FormatInt(ev.CollectionID, 10) != id {
			t.Errorf("%s: collection id %d, recorded %s", r.File, ev.CollectionID, id)
		}
		if ev.PartitionName != r.Meta[contract.MetaPartition] {
			t.Errorf("%s: partition %q, recorded %q", r.File, ev.PartitionName, r.Meta[contract.MetaPartition])
		}
		if n := r.Meta[contract.MetaRows]; n != "" && strconv.FormatInt(ev.Rows, 10) != n {
			t.Errorf("%s: %d rows, recorded %s", r.File, ev.Rows, n)
		}
		if ev.IsReplicate {
			t.Errorf("%s: marked as replicated", r.File)
		}
		// Replicate-channel requests name their database themselves.
		if ev.CollectionID == 0 && ev.DbName != r.Meta[contract.MetaDB] {
			t.Errorf("%s: db %q, recorded %q", r.File, ev.DbName, r.Meta[contract.MetaDB])
		}
	}
}

func TestRecordedPayloadsAsJSON(t *testing.T) {
	rows := map[string]map[string]any{}
	var deleted []string
	ops := map[string]map[string]any{}
	for _, r := range loadRecorded(t) {
		msgs, err := JSON(decodeRecorded(t, r))
		if err != nil {
			t.Fatalf("%s: %v", r.File, err)
		}
		for _, m := range msgs {
			raw := m
			var o map[string]any
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatalf("%s: %v", r.File, err)
			}
			switch o["op"] {
			case contract.OpInsert:
				row := o["row"].(map[string]any)
				if pk, ok := row["pk"].(string); ok {
					rows[pk] = row
				} else {
					rows[fmt.Sprint("bin", row["id"])] = row
				}
			case contract.OpDelete:
				deleted = append(deleted, fmt.Sprint(o["pk"]))
			default:
				ops[o["op"].(string)+" "+fmt.Sprint(o["collection"])] = o
			}
		}
	}
	for i := 0; i < 15; i++ {
		pk := fmt.Sprintf("k%d", i)
		if !reflect.DeepEqual(rows[pk], workload.TypesRow(i)) {
			t.Errorf("row %s:\n got %v\nwant %v", pk, rows[pk], workload.TypesRow(i))
		}
	}
	for i := 0; i < 5; i++ {
		want := []any{float64(i), float64(255 - i)}
		if got := rows[fmt.Sprint("bin", float64(i))]["bvec"]; !reflect.DeepEqual(got, want) {
			t.Errorf("binary row %d: bvec %v, want %v", i, got, want)
		}
	}
	if strings.Join(deleted, ",") != "k0,k1,k5,k6" {
		t.Errorf("deleted keys %v, want k0,k1 (upsert) then k5,k6", deleted)
	}

	cc := ops["create_collection all_types"]
	schema, _ := cc["schema"].(map[string]any)
	fields, _ := schema["fields"].([]any)
	byName := map[string]map[string]any{}
	for _, f := range fields {
		fm := f.(map[string]any)
		byName[fm["name"].(string)] = fm
	}
	if byName["pk"]["type"] != "VarChar" || byName["pk"]["primary_key"] != true {
		t.Errorf("pk field: %v", byName["pk"])
	}
	if byName["f_array_int"]["element_type"] != "Int64" || byName["$meta"]["dynamic"] != true {
		t.Errorf("array/dynamic fields: %v %v", byName["f_array_int"], byName["$meta"])
	}
	if byName["vec"]["params"].(map[string]any)["dim"] != "4" {
		t.Errorf("vec field: %v", byName["vec"])
	}
	ci := ops["create_index all_types"]
	params, _ := ci["params"].(map[string]any)
	if ci["field"] != "vec" || ci["index_name"] != "vec_idx" || params["index_type"] != "IVF_FLAT" {
		t.Errorf("create_index: %v", ci)
	}
	if di := ops["drop_index all_types"]; di["index_name"] != "vec_idx" {
		t.Errorf("drop_index: %v", di)
	}
	if dp := ops["drop_partition all_types"]; dp["partition"] != "p1" {
		t.Errorf("drop_partition: %v", dp)
	}
	if fl := ops["flush "]; !reflect.DeepEqual(fl["collections"], []any{"all_types"}) {
		t.Errorf("flush: %v", fl)
	}
	for _, op := range []string{"create_database ", "drop_database ", "load_collection all_types", "release_collection all_types", "drop_collection all_types", "drop_collection binary_vectors"} {
		if ops[op] == nil {
			t.Errorf("no %s", op)
		}
	}
}

// TestRecordedPayloadsTruncated: every prefix of every recorded payload
// decodes to a result or an error, never a panic.
func TestRecordedPayloadsTruncated(t *testing.T) {
	for _, r := range loadRecorded(t) {
		for n := 0; n < len(r.payload); n += 1 + n/64 {
			ev, err := Decode(r.payload[:n])
			if err != nil {
				continue
			}
			ev.DbName, ev.CollectionName = "db", "c"
			_, _ = JSON(ev)
		}
	}
}
