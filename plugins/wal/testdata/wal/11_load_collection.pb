
j€๐ร็ํ’ฤ€๐ร็ํ’ฤ cdc_types_131826_wrhr	all_types 