package contract

// Op names, as they appear in the `milvus_op` metadata key and in JSON output.
const (
	OpInsert            = "insert"
	OpDelete            = "delete"
	OpCreateCollection  = "create_collection"
	OpDropCollection    = "drop_collection"
	OpAlterCollection   = "alter_collection"  // properties set after creation (from the source's catalog)
	OpRenameCollection  = "rename_collection" // from the source's catalog: 2.3 logs no rename
	OpCreateAlias       = "create_alias"      // from the catalog: the alias now names this collection
	OpDropAlias         = "drop_alias"        // from the catalog: the alias no longer names this collection
	OpLoadPartitions    = "load_partitions"   // from the catalog: partitions loaded without LoadCollection
	OpReleasePartitions = "release_partitions"
	OpCreatePartition   = "create_partition"
	OpDropPartition     = "drop_partition"
	OpCreateIndex       = "create_index"
	OpDropIndex         = "drop_index"
	OpLoadCollection    = "load_collection"
	OpReleaseCollection = "release_collection"
	OpFlush             = "flush"
	OpCreateDatabase    = "create_database"
	OpDropDatabase      = "drop_database"
	OpTimeTick          = "time_tick"
)

// IsRowOp reports whether op changes rows (insert or delete).
func IsRowOp(op string) bool { return op == OpInsert || op == OpDelete }

// CollectionRef names one collection: database and collection name.
type CollectionRef struct {
	DB   string `json:"db"`
	Name string `json:"name"`
}

// DefaultDatabase is the database Milvus puts everything in that names none.
const DefaultDatabase = "default"
