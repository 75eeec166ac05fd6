
d€Ίδν’Δ0‘Τÿ“ίκ’ΔB
	all_typesevery field type"dpk(2

max_length64"ef_bool("ff_int8("gf_int16("hf_int32("if_int64("jf_float(
"kf_double(""l	f_varchar(2

max_length256"mf_json("&nf_array_int(2
max_capacity8P"8of_array_str(2
max_capacity42

max_length32P"pvec(e2
dim4"q$meta"dynamic schema(`"RowID"row id("	Timestamp"
time stamp((J,by-dev-rootcoord-dml_12_470708993572989457v0Rby-dev-rootcoord-dml_12Z	’Τÿ“ίκ’Δ