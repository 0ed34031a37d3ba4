"""Whole ECG archives: records found in folders, analysed on a Dask cluster, results kept as Parquet.

``discovery`` finds records and hashes their content, ``rows`` turns a result into one table row, ``store`` appends
and reads the Parquet results folder, ``engine`` runs the analysis on the workers, ``runner`` ties them together
(resumable: a record already stored with the same content hash and model version is not analysed again) and
``summary`` / ``report`` write the HTML/CSV summary of a results folder.
"""
