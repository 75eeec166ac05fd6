
kѓЂр…лн’ДѓЂр…лн’Д cdc_types_131826_wrhr	all_types