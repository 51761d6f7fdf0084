package atlas

// VersionApplied reports whether migration version v counts as applied when the database's
// last revision is last. Atlas's rule (migrate.Executor.Pending): versions compare as strings,
// byte by byte, so with unpadded versions "10" is below "9". Atlas applies files in file-name
// order and takes as applied every file up to the last one whose version is <= last.
func VersionApplied(v, last string) bool {
	return last != "" && v <= last
}

// PendingVersions are the versions of a directory, in its file-name order (migrate.LocalDir),
// that atlas would still apply after last: everything after the last file whose version is
// <= last; all of them when there is none.
func PendingVersions(dir []string, last string) []string {
	idx := -1
	for i, v := range dir {
		if VersionApplied(v, last) {
			idx = i
		}
	}
	return append([]string{}, dir[idx+1:]...)
}
