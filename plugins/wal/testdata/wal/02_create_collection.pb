
d€Ίδν’Δ0™Τÿ“ίκ’ΔBs
binary_vectorsbinary vectors"
did("ebvec(d2	
dim16"RowID"row id("	Timestamp"
time stamp(J,by-dev-rootcoord-dml_13_470708993572989465v0Rby-dev-rootcoord-dml_13Z	Τÿ“ίκ’Δ