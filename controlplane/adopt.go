package controlplane

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Adoption: a task deleted and created again (to change a setting, after an
// incident, after a failover drill) finds on the target the copies its
// predecessor made. Copies of the same source cluster that no live task
// holds are taken over by the new task (milvus_apply's adopt_replications):
// its snapshot makes each equal to the source again. A copy whose source
// collection is gone is dropped, as the stream would have done. A copy held
// by a live task, or made from another source cluster, is refused at create.

// TargetCatalog is what adoption reads of a target Milvus, and drops there.
type TargetCatalog interface {
	ListDatabases(ctx context.Context) ([]string, error)
	ListCollections(ctx context.Context, db string) ([]string, error)
	// DescribeCollection returns the collection named name (not an alias);
	// nil when there is none.
	DescribeCollection(ctx context.Context, db, name string) (*TargetCollection, error)
	DropAlias(ctx context.Context, db, alias string) error
	DropCollection(ctx context.Context, db, name string) error
}

// TargetCollection is what adoption knows of one target collection.
type TargetCollection struct {
	Properties map[string]string
	Aliases    []string
}

// copyTags are the tags milvus_apply puts on a copy it makes.
type copyTags struct {
	sourceID    int64  // contract.PropSourceCollectionID; 0: not a copy
	replication string // contract.PropReplication
	cluster     string // contract.PropSourceCluster
}

func tagsOf(c *TargetCollection) copyTags {
	id, _ := strconv.ParseInt(c.Properties[contract.PropSourceCollectionID], 10, 64)
	return copyTags{sourceID: id, replication: c.Properties[contract.PropReplication], cluster: c.Properties[contract.PropSourceCluster]}
}

// Adoption is what a new task takes over on its target.
type Adoption struct {
	// Replications: the earlier replications (task IDs) whose copies the
	// task adopts (milvus_apply's adopt_replications), sorted.
	Replications []string
	// Copies: the adopted copies whose source collection still exists;
	// the task's snapshot makes each equal to the source.
	Copies []contract.CollectionRef
	// Stale: adopted copies whose source collection no longer exists, to
	// drop (DropStale) before the task starts.
	Stale []StaleCopy
}

// StaleCopy is an adopted copy of a source collection that no longer exists.
type StaleCopy struct {
	contract.CollectionRef
	Replication string // the copy's replication tag when it was planned
	SourceID    int64  // the source collection it copied
}

// AdoptionConflict is a copy on the target the new task would write to but
// may not take over; the API answers it 409 Conflict.
type AdoptionConflict struct {
	Collection contract.CollectionRef
	// Task: the live task holding the copy (empty when Cluster says why).
	Task string
	// Replication: the copy's replication tag (Task's ID, or a replication
	// Task adopted).
	Replication string
	// Cluster: the source cluster the copy was made from, when it is not
	// the new task's; empty otherwise.
	Cluster string
	// Untagged: the copy carries no source cluster tag (made before tags
	// existed): where it came from cannot be told.
	Untagged bool
	// OtherStore: the copy is of this source but was made by a task of
	// another control plane (another task store): its identity.
	OtherStore string
	// More: how many other copies conflict too.
	More int
}

func (e *AdoptionConflict) Error() string {
	ref := e.Collection.DB + "." + e.Collection.Name
	var msg string
	switch {
	case e.Task != "" && e.Task != e.Replication:
		msg = fmt.Sprintf("the target collection %s is a copy held by task %s (it adopted replication %s's copies); "+
			"a task writes only to its own copies: delete or re-map that task, or map this one elsewhere", ref, e.Task, e.Replication)
	case e.Task != "":
		msg = fmt.Sprintf("the target collection %s is a copy held by task %s; a task writes only to its own copies: "+
			"delete that task (its copies are then adopted), or map this one elsewhere (collection_mapping / database_mapping)", ref, e.Task)
	case e.Untagged:
		msg = fmt.Sprintf("the target collection %s is a copy made by replication %s before copies were tagged with their source cluster: "+
			"which source it came from cannot be told, so it is not adopted. Drop it on the target, or map this collection elsewhere", ref, e.Replication)
	case e.OtherStore != "":
		msg = fmt.Sprintf("the target collection %s is a copy made by task %s of another control plane (task store %s) from this source: "+
			"whether that task still runs cannot be told here, so it is not adopted. Delete that task there and drop the copy, "+
			"or map this collection elsewhere", ref, e.Replication, e.OtherStore)
	default:
		msg = fmt.Sprintf("the target collection %s is a copy of source cluster %s, made by replication %s, not of this task's source: "+
			"it is not adopted. Drop it on the target, or map this collection elsewhere", ref, e.Cluster, e.Replication)
	}
	if e.More > 0 {
		msg += fmt.Sprintf(" (%d more target collections conflict likewise)", e.More)
	}
	return msg
}

// API is the conflict as the API answers it.
func (e *AdoptionConflict) API() *APIError {
	return &APIError{Code: http.StatusConflict, Message: e.Error()}
}

// LiveTask is a task that holds copies on the target: its own (tagged with
// its ID, wherever they are) and the copies of the replications it adopted
// that it selects.
type LiveTask struct {
	ID      string
	Adopted []string
	// Selects reports whether the task selects the target collection
	// db.name (by its target name, after its mappings); nil: every one.
	Selects func(db, name string) bool
}

// holder returns the live task holding the copy at ref tagged replication.
func holder(live []LiveTask, replication string, ref contract.CollectionRef) (string, bool) {
	for _, t := range live {
		if t.ID == replication {
			return t.ID, true
		}
	}
	for _, t := range live {
		if slices.Contains(t.Adopted, replication) && (t.Selects == nil || t.Selects(ref.DB, ref.Name)) {
			return t.ID, true
		}
	}
	return "", false
}

// planAdoption looks at every collection of the target that the new task
// selects (selected: by its target name, after the task's mappings) and
// carries the copy tags of a replication (another task):
//
//   - held by a live task (see LiveTask): a conflict naming it;
//   - made from another source cluster, or untagged by cluster (made before
//     the tag existed): a conflict naming the cluster or saying so;
//   - else adopted: its replication joins Replications, and it goes to
//     Stale when its source collection no longer exists (sourceHas).
//
// Collections the task does not select are left alone. The first conflict
// is returned (*AdoptionConflict, More counting the others); any other error
// is the target's or the source's.
//
// sourceNamed (nil: every name) tells whether the source has a collection
// at a name: a copy the task may not adopt conflicts only then (the task
// would copy that collection to it); otherwise it is left alone.
func planAdoption(ctx context.Context, tgt TargetCatalog, sourceCluster string, live []LiveTask,
	sourceHas func(ctx context.Context, id int64) (bool, error), selected func(db, name string) bool,
	sourceNamed func(ctx context.Context, db, name string) (bool, error)) (Adoption, error) {
	p := &adoptionPlan{tgt: tgt, sourceCluster: sourceCluster, live: live, sourceHas: sourceHas, selected: selected,
		sourceNamed: sourceNamed, known: map[int64]bool{}, repls: map[string]bool{}}
	dbs, err := tgt.ListDatabases(ctx)
	if err != nil {
		return Adoption{}, fmt.Errorf("list the target's databases: %w", err)
	}
	for _, db := range slices.Sorted(slices.Values(dbs)) {
		if err := p.database(ctx, db); err != nil {
			return Adoption{}, err
		}
	}
	if p.conflict != nil {
		return Adoption{}, p.conflict
	}
	p.out.Replications = slices.Sorted(maps.Keys(p.repls))
	return p.out, nil
}

// adoptionPlan is planAdoption's walk over the target: its inputs, and
// what it found so far.
type adoptionPlan struct {
	tgt           TargetCatalog
	sourceCluster string
	live          []LiveTask
	sourceHas     func(ctx context.Context, id int64) (bool, error)
	selected      func(db, name string) bool
	sourceNamed   func(ctx context.Context, db, name string) (bool, error)
	out           Adoption
	conflict      *AdoptionConflict // the first; More counts the others
	known         map[int64]bool    // sourceHas answers
	repls         map[string]bool   // the replications adopted
}

// database plans the collections of target database db the task selects.
func (p *adoptionPlan) database(ctx context.Context, db string) error {
	names, err := p.tgt.ListCollections(ctx, db)
	if err != nil {
		return fmt.Errorf("list the collections of target database %s: %w", db, err)
	}
	for _, name := range slices.Sorted(slices.Values(names)) {
		if !p.selected(db, name) {
			continue
		}
		if err := p.collection(ctx, contract.CollectionRef{DB: db, Name: name}); err != nil {
			return err
		}
	}
	return nil
}

// collection plans one selected target collection: not a copy (left
// alone), a copy the task may not take over (a conflict), or adopted.
func (p *adoptionPlan) collection(ctx context.Context, ref contract.CollectionRef) error {
	c, err := p.tgt.DescribeCollection(ctx, ref.DB, ref.Name)
	if err != nil {
		return fmt.Errorf("describe target collection %s.%s: %w", ref.DB, ref.Name, err)
	}
	if c == nil {
		return nil // dropped since it was listed
	}
	tags := tagsOf(c)
	if tags.sourceID == 0 || tags.replication == "" {
		return nil // not a copy, or one made before replication tags (every replication's)
	}
	if cf := conflictOf(ref, tags, p.sourceCluster, p.live); cf != nil {
		return p.conflicting(ctx, ref, cf)
	}
	if p.conflict != nil {
		return nil // the answer is the conflict: ask the source nothing more
	}
	return p.adopt(ctx, ref, tags)
}

// conflicting records the conflict cf at ref, unless the source has no
// collection at that name (nothing of this task's goes there: left alone).
func (p *adoptionPlan) conflicting(ctx context.Context, ref contract.CollectionRef, cf *AdoptionConflict) error {
	if p.sourceNamed != nil {
		named, err := p.sourceNamed(ctx, ref.DB, ref.Name)
		if err != nil {
			return fmt.Errorf("does the source have a collection %s.%s? %w", ref.DB, ref.Name, err)
		}
		if !named {
			return nil
		}
	}
	if p.conflict == nil {
		p.conflict = cf
	} else {
		p.conflict.More++
	}
	return nil
}

// adopt takes the copy at ref over: its replication joins the adopted ones,
// and it is stale when its source collection no longer exists.
func (p *adoptionPlan) adopt(ctx context.Context, ref contract.CollectionRef, tags copyTags) error {
	p.repls[tags.replication] = true
	has, ok := p.known[tags.sourceID]
	if !ok {
		var err error
		if has, err = p.sourceHas(ctx, tags.sourceID); err != nil {
			return fmt.Errorf("does the source still have collection %d (copied to %s.%s)? %w", tags.sourceID, ref.DB, ref.Name, err)
		}
		p.known[tags.sourceID] = has
	}
	if has {
		p.out.Copies = append(p.out.Copies, ref)
	} else {
		p.out.Stale = append(p.out.Stale, StaleCopy{CollectionRef: ref, Replication: tags.replication, SourceID: tags.sourceID})
	}
	return nil
}

// conflictOf says why the task may not adopt the copy at ref; nil if it may.
func conflictOf(ref contract.CollectionRef, tags copyTags, sourceCluster string, live []LiveTask) *AdoptionConflict {
	if task, held := holder(live, tags.replication, ref); held {
		return &AdoptionConflict{Collection: ref, Task: task, Replication: tags.replication}
	}
	if tags.cluster == "" {
		return &AdoptionConflict{Collection: ref, Replication: tags.replication, Untagged: true}
	}
	if tags.cluster != sourceCluster {
		theirs, theirStore := contract.SplitCopyOrigin(tags.cluster)
		ours, _ := contract.SplitCopyOrigin(sourceCluster)
		if theirs == ours && theirStore != "" {
			return &AdoptionConflict{Collection: ref, Replication: tags.replication, OtherStore: theirStore}
		}
		return &AdoptionConflict{Collection: ref, Replication: tags.replication, Cluster: theirs}
	}
	return nil
}

// DropStale drops the stale copies of an adoption, each with its aliases
// (Milvus 2.3 keeps the alias of a dropped collection), after describing it
// again: one whose tags changed since it was planned (another task took it,
// it was dropped and created again) is left alone. It returns what it
// dropped; a failure stops it with the error.
func DropStale(ctx context.Context, tgt TargetCatalog, sourceCluster string, a Adoption) ([]contract.CollectionRef, error) {
	var dropped []contract.CollectionRef
	for _, s := range a.Stale {
		c, err := tgt.DescribeCollection(ctx, s.DB, s.Name)
		if err != nil {
			return dropped, fmt.Errorf("describe stale copy %s.%s before its drop: %w", s.DB, s.Name, err)
		}
		if c == nil {
			continue
		}
		if tags := tagsOf(c); tags != (copyTags{sourceID: s.SourceID, replication: s.Replication, cluster: sourceCluster}) {
			continue // not the copy that was planned any more
		}
		for _, alias := range c.Aliases {
			if err := tgt.DropAlias(ctx, s.DB, alias); err != nil {
				return dropped, fmt.Errorf("drop alias %s.%s of stale copy %s: %w", s.DB, alias, s.Name, err)
			}
		}
		if err := tgt.DropCollection(ctx, s.DB, s.Name); err != nil {
			return dropped, fmt.Errorf("drop stale copy %s.%s (its source collection %d no longer exists): %w", s.DB, s.Name, s.SourceID, err)
		}
		dropped = append(dropped, s.CollectionRef)
	}
	return dropped, nil
}

// String is a log line's account of the adoption.
func (a Adoption) String() string {
	var copies, stale []string
	for _, r := range a.Copies {
		copies = append(copies, r.DB+"."+r.Name)
	}
	for _, r := range a.Stale {
		stale = append(stale, r.DB+"."+r.Name)
	}
	return fmt.Sprintf("adopts the copies of replications [%s]: [%s]; stale (source collection gone): [%s]",
		strings.Join(a.Replications, ", "), strings.Join(copies, ", "), strings.Join(stale, ", "))
}
