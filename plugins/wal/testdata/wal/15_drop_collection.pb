
e†€€πλν’Δ binary_vectors(™Τÿ“ίκ’Δ