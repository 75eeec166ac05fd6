
®…€πιλν’Δ…€πιλν’Δ cdc_types_131826_wrhr	all_types"vec*vec_idx