
’ќЂ°Адн’ДќЂ°Адн’Д cdc_types_131826_wrhr	all_types