
¬…€Π½ην’Δ…€Π½ην’Δ cdc_types_131826_wrhr	all_types"vec*
params{"nlist":"8"}*

index_typeIVF_FLAT*
metric_typeL22vec_idx