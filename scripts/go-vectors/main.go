// Command go-vectors writes the Go-computed test vectors under Tests/PullwardenCoreTests/GoVectors/.
//
// Every expected value comes from the Go function the kubelet itself calls (standard library, plus
// docker/distribution's reference package for image names). Where the kubelet wraps those functions
// (keyring URL matching, docker config `auth` decoding, keyring key normalisation), the wrapper is
// re-implemented here, stdlib-only, from the upstream kubelet source cited at each function.
//
// Run it through scripts/generate-go-vectors, which pins the toolchain and GOPATH.
//
// Output is deterministic: inputs are fixed lists, cases keep list order, and no map is iterated.
package main

import (
	"bytes"
	_ "crypto/sha256" // registers the digest algorithms go-digest validates, as the kubelet binary does
	_ "crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docker/distribution/reference"
)

// file is one output file: a header naming the toolchain, then one case per line.
type file struct {
	name        string
	description string
	cases       []interface{}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-vectors OUTPUT_DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	for _, f := range []file{
		globFile(), urlsMatchFile(), imageReferenceFile(), base64File(), dockerConfigFile(),
		durationFile(), rfc3339File(), jsonStringFile(),
	} {
		if err := write(filepath.Join(dir, f.name), f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func write(path string, f file) error {
	var out bytes.Buffer
	header := func(key, value string) {
		k, _ := json.Marshal(key)
		v, _ := json.Marshal(value)
		fmt.Fprintf(&out, "  %s: %s,\n", k, v)
	}
	out.WriteString("{\n")
	header("generator", "scripts/generate-go-vectors (scripts/go-vectors/main.go); do not edit by hand")
	header("go", runtime.Version())
	header("description", f.description)
	out.WriteString("  \"cases\": [\n")
	for i, c := range f.cases {
		line, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("%s case %d: %v", path, i, err)
		}
		out.WriteString("    ")
		out.Write(line)
		if i < len(f.cases)-1 {
			out.WriteString(",")
		}
		out.WriteString("\n")
	}
	out.WriteString("  ]\n}\n")
	return os.WriteFile(path, out.Bytes(), 0o644)
}

func errText(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// MARK: path/filepath.Match

type globCase struct {
	Pattern string `json:"pattern"`
	Name    string `json:"name"`
	Match   bool   `json:"match"`
	// BadPattern: Match returned ErrBadPattern (it may also return false, nil for a malformed
	// pattern when the name mismatches before the malformed part).
	BadPattern bool `json:"badPattern"`
}

func globFile() file {
	patterns := []string{
		"", "*", "**", "?", "??", "a", "a*", "*a", "a*b", "a*b*c", "*a*", "a?c", "?*", "*?",
		"[abc]", "[a-c]", "[^a-c]", "[^abc]", "[a-cx-z]", "[z-a]", "[a-a]", "[!a]", "[^^]", "[a^]", "[^]", "[]",
		"[", "[a", "[a-", "[a-]", "[-a]", "[-]", "[^-]", "[x-]", "[]a]", "[^]a]", "[]]", "[[]", "[a-b-c]",
		"[\\]]", "[\\-]", "[a\\-z]", "[\\a-\\c]", "[\\", "[a\\", "[\\]", "[^\\]]",
		"\\", "a\\", "*\\", "\\*", "\\?", "\\a", "\\\\", "\\[", "\\]", "\\-",
		"*[", "a[", "[a-c", "ab[c", "*x[", "a*[", "*[]", "*[a", "?[", "[a]*[", "*\\", "a*\\",
		"é", "é*", "?é", "[é]", "[^é]", "[α-ω]", "[^α-ω]", "日本*", "*本", "[日-本]",
		"*/b", "a/*", "[/]", "[^/]", "a?b", "*a*a*a*a*b", "*.example.com", "app*", "*-prod", "k8s",
		"-", "]", "a]", "^", "!", "[!]", "[a-z0-9]*", "[0-9][0-9]",
	}
	names := []string{
		"", "a", "b", "x", "ab", "abc", "aXc", "abcabc", "aaaab", "aaaaaaaaaaaaaaaaaaaa",
		"-", "]", "[", "\\", "^", "*", "?", "/", "a/b", "é", "ω", "日本語",
		"app-1", "prod-prod", "k8s", "a.example.com",
	}
	var cases []interface{}
	for _, p := range patterns {
		for _, n := range names {
			matched, err := filepath.Match(p, n)
			if err != nil && err != filepath.ErrBadPattern {
				panic(err)
			}
			cases = append(cases, globCase{p, n, matched, err != nil})
		}
	}
	return file{
		name:        "filepath-match.json",
		description: "path/filepath.Match(pattern, name): match, and badPattern when it returned ErrBadPattern. Every pattern against every name.",
		cases:       cases,
	}
}

// MARK: kubelet URLsMatchStr (pkg/credentialprovider/keyring.go)

// parseSchemelessURL follows the kubelet: url.Parse("https://" + s), then drop the scheme.
func parseSchemelessURL(s string) (*url.URL, error) {
	u, err := url.Parse("https://" + s)
	if err != nil {
		return nil, err
	}
	u.Scheme = ""
	return u, nil
}

// splitURL follows the kubelet: net.SplitHostPort on the URL's host, falling back to the whole host
// and no port when that fails, then the host split on ".".
func splitURL(u *url.URL) ([]string, string) {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, ""
	}
	return strings.Split(host, "."), port
}

// urlsMatchStr follows the kubelet's URLsMatchStr/URLsMatch: equal ports, equal label counts, the
// glob's path a string prefix of the target's, and every label matched with filepath.Match.
func urlsMatchStr(glob, target string) (bool, error) {
	g, err := parseSchemelessURL(glob)
	if err != nil {
		return false, err
	}
	t, err := parseSchemelessURL(target)
	if err != nil {
		return false, err
	}
	gParts, gPort := splitURL(g)
	tParts, tPort := splitURL(t)
	if gPort != tPort || len(gParts) != len(tParts) || !strings.HasPrefix(t.Path, g.Path) {
		return false, nil
	}
	for i, part := range gParts {
		ok, err := filepath.Match(part, tParts[i])
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

type urlsMatchCase struct {
	Glob   string  `json:"glob"`
	Target string  `json:"target"`
	Match  bool    `json:"match"`
	Error  *string `json:"error"`
}

func urlsMatchFile() file {
	globs := []string{
		"registry.example.com", "*.example.com", "*.*.example.com", "example.*", "*", "*.*",
		"registry.example.com:5000", "*.example.com:5000", "registry.example.com:*", "*:5000",
		"registry.example.com/team", "registry.example.com/team/", "registry.example.com/team/app",
		"*.example.com:5000/team", "registry.example.com/", "registry.example.com:5000/team",
		"[a-z]*.example.com", "reg?stry.example.com", "r[^x]gistry.example.com", "a[bc].example.com",
		"a\\b.example.com", "[.example.com", "registry.example.com[", "app*.example.com",
		"localhost", "localhost:5000", "127.0.0.1:5000", "127.0.0.*:5000", "[::1]:5000", "[::1]",
		"registry.example.com/foo%2Fbar", "registry.example.com/%zz", "user@registry.example.com",
		"registry.example.com?x=1", "registry.example.com#frag", "REGISTRY.example.com", "registry.EXAMPLE.com",
		"registry.example.com:05000", "registry.example.com:", ":5000", "", "registry.example.com.",
		".example.com", "https://registry.example.com", "registry example.com", "registry.example.com:5000:6000",
		"*.azurecr.io", "*.dkr.ecr.*.amazonaws.com", "docker.io", "docker.io/library",
	}
	targets := []string{
		"registry.example.com/team/app", "registry.example.com:5000/team/app", "registry.example.com/teamwork/app",
		"registry.example.com/team", "a.example.com/x", "ab.example.com/x", "ac.example.com/x", "a.b.example.com/x",
		"example.org/x", "localhost:5000/x", "localhost/x", "127.0.0.1:5000/x", "[::1]:5000/x",
		"REGISTRY.example.com/x", "registry.example.com./x", "app-1.example.com/x", "123.dkr.ecr.us-east-1.amazonaws.com/app",
		"my.azurecr.io/app", "docker.io/library/nginx", "registry.example.com:05000/x",
		"registry.example.com/foo/bar", "registry.example.com/foo%2Fbar",
	}
	var cases []interface{}
	for _, g := range globs {
		for _, t := range targets {
			ok, err := urlsMatchStr(g, t)
			cases = append(cases, urlsMatchCase{g, t, ok, errText(err)})
		}
	}
	return file{
		name: "urls-match.json",
		description: "The kubelet's URLsMatchStr(glob, target) (pkg/credentialprovider/keyring.go), re-implemented " +
			"with net/url.Parse, net.SplitHostPort and path/filepath.Match: match, or the error that makes it no match.",
		cases: cases,
	}
}

// MARK: docker/distribution reference

type referenceCase struct {
	Input        string  `json:"input"`
	Error        *string `json:"error"`
	Name         string  `json:"name,omitempty"`
	Domain       string  `json:"domain,omitempty"`
	Path         string  `json:"path,omitempty"`
	Tag          string  `json:"tag,omitempty"`
	Digest       string  `json:"digest,omitempty"`
	String       string  `json:"string,omitempty"`
	FamiliarName string  `json:"familiarName,omitempty"`
	TagNameOnly  string  `json:"tagNameOnly,omitempty"`
}

// Debian ships docker/distribution 2.8.2; the kubelet vendors github.com/distribution/reference
// v0.6, which adds two rules: a first component with upper-case letters is a domain ("Foo/bar"),
// and bracketed IPv6 domains are valid. Inputs that hit either rule are left out here (the Swift
// unit tests cover them by hand); everything else parses the same in both.
func imageReferenceFile() file {
	hex64 := strings.Repeat("a", 64)
	sha := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	inputs := []string{
		"nginx", "nginx:1.25", "nginx:latest", "library/nginx", "docker.io/nginx", "docker.io/library/nginx",
		"index.docker.io/nginx", "index.docker.io/library/nginx:1", "registry-1.docker.io/nginx", "docker.io/team/app",
		"team/app", "team/sub/app:v1", "registry.example.com/team/app", "registry.example.com:5000/team/app:v1.2.3",
		"localhost/app", "localhost:5000/app", "localhost", "localhost:5000", "127.0.0.1:5000/app", "my-registry.local/a/b/c",
		"registry.example.com/app@" + sha, "registry.example.com/app:v1@" + sha, "nginx@" + sha,
		"nginx@sha256:" + strings.Repeat("A", 64), "nginx@sha256:" + strings.Repeat("a", 32), "nginx@sha256:" + strings.Repeat("a", 63),
		"nginx@sha256:" + strings.Repeat("a", 65), "nginx@sha512:" + strings.Repeat("ab", 64), "nginx@sha384:" + strings.Repeat("ab", 48),
		"nginx@md5:" + strings.Repeat("a", 32), "nginx@foo+bar:" + strings.Repeat("a", 32), "nginx@sha256:", "nginx@" + hex64,
		"nginx@sha256:" + strings.Repeat("g", 64), "nginx@1sha:" + strings.Repeat("a", 64),
		hex64, strings.Repeat("A", 64), hex64[:63], hex64 + "a", "docker.io/" + hex64, hex64 + ":tag",
		"", ":", "/", "nginx:", ":tag", "@", "nginx@", "a//b", "/nginx", "nginx/", "a/b/", "-", "_",
		"Nginx", "nginx/App", "registry.example.com/Team/app", "REGISTRY.example.com/team/app", "Registry.Example.Com:5000/app",
		"nginx:UPPER", "nginx:Tag_1.0-rc", "nginx:" + strings.Repeat("t", 128), "nginx:" + strings.Repeat("t", 129),
		"nginx:-tag", "nginx:.tag", "nginx:_tag", "nginx:tag!",
		"a.b", "a.b/c", "a_b", "a__b", "a___b", "a-b", "a--b", "a---b", "a.-b", "a-.b", "a..b", "a._b", "a_.b",
		"a.", ".a", "a-", "-a", "_a", "a_", "a:b:c", "a/b:c/d", "a:5000/b", "a:b/c", "a:/b",
		"registry.example.com:/app", "registry.example.com:abc/app", "registry.example.com:5000:6000/app",
		"-registry.example.com/app", "registry-.example.com/app", "reg_istry.example.com/app", "registry..example.com/app",
		".registry.example.com/app", "registry.example.com./app", "xn--bcher-kva.example/app", "1.2.3.4/app", "1.2.3.4:80/app",
		"registry.example.com/team/app:tag/extra", "registry.example.com/team app", " nginx", "nginx ", "nginx\n",
		"ngïnx", "registry.exämple.com/app", "a/" + strings.Repeat("b", 253), "a/" + strings.Repeat("b", 254),
		"registry.example.com/" + strings.Repeat("b", 234), "registry.example.com/" + strings.Repeat("b", 235),
		strings.Repeat("b", 246), strings.Repeat("b", 247), "docker.io/" + strings.Repeat("b", 237),
		"k8s.gcr.io/pause:3.9", "registry.k8s.io/kube-apiserver:v1.30.0", "quay.io/coreos/etcd:v3.5.0",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest", "myregistry.azurecr.io/a/b:c",
		"gcr.io/project/image@" + sha, "ghcr.io/owner/repo:sha-abc123",
	}
	var cases []interface{}
	for _, in := range inputs {
		named, err := reference.ParseNormalizedNamed(in)
		c := referenceCase{Input: in, Error: errText(err)}
		if err == nil {
			c.Name = named.Name()
			c.Domain = reference.Domain(named)
			c.Path = reference.Path(named)
			if t, ok := named.(reference.Tagged); ok {
				c.Tag = t.Tag()
			}
			if d, ok := named.(reference.Digested); ok {
				c.Digest = d.Digest().String()
			}
			c.String = named.String()
			c.FamiliarName = reference.FamiliarName(named)
			c.TagNameOnly = reference.TagNameOnly(named).String()
		}
		cases = append(cases, c)
	}
	return file{
		name: "image-reference.json",
		description: "github.com/docker/distribution/reference ParseNormalizedNamed(input): Name(), Domain, Path, Tag, " +
			"Digest, String(), FamiliarName, TagNameOnly(...).String(), or the error. Omitted fields are empty.",
		cases: cases,
	}
}

// MARK: encoding/base64

type decodeResult struct {
	OK    bool    `json:"ok"`
	Hex   string  `json:"hex,omitempty"`
	Error *string `json:"error,omitempty"`
}

func decodeWith(enc *base64.Encoding, s string) decodeResult {
	b, err := enc.DecodeString(s)
	if err != nil {
		return decodeResult{Error: errText(err)}
	}
	return decodeResult{OK: true, Hex: hex.EncodeToString(b)}
}

type base64DecodeCase struct {
	Kind   string       `json:"kind"`
	Input  string       `json:"input"`
	Std    decodeResult `json:"std"`
	RawStd decodeResult `json:"rawStd"`
	RawURL decodeResult `json:"rawURL"`
}

type base64EncodeCase struct {
	Kind   string `json:"kind"`
	Hex    string `json:"hex"`
	Std    string `json:"std"`
	RawURL string `json:"rawURL"`
}

func base64File() file {
	inputs := []string{
		"", "=", "==", "===", "====", "Y", "YQ", "YQ=", "YQ==", "YQ===", "YWI", "YWI=", "YWI==", "YWJj", "YWJj=", "YWJj====",
		"YR==", "YWJ=", "YWE=", "YQ==YQ==", "YQ==YWJj", "YWJjYQ==", "YWJjY", "YWJjYQ", "YWJjYWI", "YWJjYWI=",
		"Y Q==", " YQ==", "YQ== ", "\tYQ==", "YQ==\t", "YQ==\n", "\nYQ==", "Y\nQ==", "Y\r\nQ==", "YQ=\n=", "YQ=\r=",
		"YQ\n", "YQ\r\n", "\n", "\r\n", "YWJj\n", "YW\nJj\n",
		"YQ.=", "YQ-=", "YQ_=", "+/+/", "-_-_", "+/8=", "-_8=", "+/8", "-_8", "/w==", "_w==", "/w", "_w",
		"dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA", "dTpwOnE", "dTpwOnE=", "dTpwOnE==",
		"dXNlcjo=", "OnBhc3M=", "dXNlcg==", "Og==", "OjpfOg==", "4pyTIMOgIGxhIG1vZGU=", "/w/w",
		"eyJhbGciOiJSUzI1NiJ9", "eyJhbGciOiJSUzI1NiJ9=", "YQ==\x00", "Y\x00Q==", "YQ＝＝", "ÿQ==",
	}
	var cases []interface{}
	for _, in := range inputs {
		cases = append(cases, base64DecodeCase{
			Kind: "decode", Input: in,
			Std:    decodeWith(base64.StdEncoding, in),
			RawStd: decodeWith(base64.RawStdEncoding, in),
			RawURL: decodeWith(base64.RawURLEncoding, in),
		})
	}
	raw := [][]byte{
		{}, {0}, {0, 0}, {0, 0, 0}, []byte("a"), []byte("ab"), []byte("abc"), []byte("abcd"),
		[]byte("user:password"), []byte("u:p:q"), {0xff}, {0xfb, 0xff}, {0xfb, 0xef, 0xbe}, {0xff, 0xfe, 0xfd, 0xfc},
		[]byte("✓ à la mode"), []byte("{\"alg\":\"RS256\",\"kid\":\"x\"}"),
	}
	for _, b := range raw {
		cases = append(cases, base64EncodeCase{"encode", hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)})
	}
	return file{
		name: "base64.json",
		description: "encoding/base64: kind \"decode\" gives input through StdEncoding (Secret data, any []byte in JSON), " +
			"RawStdEncoding and RawURLEncoding (JWT segments) DecodeString, as hex or the error; kind \"encode\" gives bytes " +
			"(hex) through StdEncoding and RawURLEncoding EncodeToString.",
		cases: cases,
	}
}

// MARK: docker config entries (pkg/credentialprovider/config.go)

// dockerConfigEntryWithAuth mirrors the kubelet's struct of the same name: encoding/json matches
// field names case-insensitively.
type dockerConfigEntryWithAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Email    string `json:"email,omitempty"`
	Auth     string `json:"auth,omitempty"`
}

// decodeDockerConfigFieldAuth follows the kubelet: padded StdEncoding when the trimmed field ends
// in "=", RawStdEncoding otherwise (both on the untrimmed field), then split at the first ":".
func decodeDockerConfigFieldAuth(field string) (string, string, error) {
	var decoded []byte
	var err error
	if strings.HasSuffix(strings.TrimSpace(field), "=") {
		decoded, err = base64.StdEncoding.DecodeString(field)
	} else {
		decoded, err = base64.RawStdEncoding.DecodeString(field)
	}
	if err != nil {
		return "", "", err
	}
	parts := strings.SplitN(string(decoded), ":", 2)
	if len(parts) != 2 {
		return "", "", errors.New("unable to parse auth field, must be formatted as base64(username:password)")
	}
	return parts[0], parts[1], nil
}

// unmarshalDockerConfigEntry follows the kubelet's DockerConfigEntry.UnmarshalJSON.
func unmarshalDockerConfigEntry(data []byte) (username, password, email string, err error) {
	var tmp dockerConfigEntryWithAuth
	if err = json.Unmarshal(data, &tmp); err != nil {
		return
	}
	username, password, email = tmp.Username, tmp.Password, tmp.Email
	if len(tmp.Auth) == 0 {
		return
	}
	username, password, err = decodeDockerConfigFieldAuth(tmp.Auth)
	return
}

// keyringKey follows the kubelet's BasicDockerKeyring.Add: add https:// unless a scheme is there,
// url.Parse, drop a /v1/ or /v2/ prefix of the path (keeping its slash), and key by host plus path
// unless the path is empty or "/". ok is false when the kubelet skips the entry.
func keyringKey(loc string) (key string, ok bool) {
	value := loc
	if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
		value = "https://" + value
	}
	parsed, err := url.Parse(value)
	if err != nil {
		return "", false
	}
	path := parsed.Path
	if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/") {
		path = path[3:]
	}
	if len(path) > 0 && path != "/" {
		return parsed.Host + path, true
	}
	return parsed.Host, true
}

type authCase struct {
	Kind     string  `json:"kind"`
	Input    string  `json:"input"`
	Error    *string `json:"error"`
	Username string  `json:"username,omitempty"`
	Password string  `json:"password,omitempty"`
	Email    string  `json:"email,omitempty"`
	// ValidUTF8 is false when the decoded credential is not UTF-8 (Go keeps the raw bytes).
	ValidUTF8 bool `json:"validUTF8"`
}

type keyCase struct {
	Kind  string `json:"kind"`
	Input string `json:"input"`
	Key   string `json:"key,omitempty"`
	OK    bool   `json:"ok"`
}

func dockerConfigFile() file {
	auths := []string{
		"dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA", "dXNlcjpwYXNzd29yZA=", "dXNlcjpwYXNzd29yZA===",
		"dTpwOnE", "dTpwOnE=", "dTpwOnE==", "dXNlcjo=", "dXNlcjo", "OnBhc3M=", "OnBhc3M", "dXNlcg==", "dXNlcg", "Og==", "Og",
		" dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA== ", " dXNlcjpwYXNzd29yZA", "dXNlcjpwYXNzd29yZA ",
		"dXNlcjpwYXNzd29yZA==\n", "dXNlcjpwYXNzd29yZA\n", "dXNlcjpw\nYXNzd29yZA==", "dXNlcjpw\r\nYXNzd29yZA",
		"\tdXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==\t", "dXNlcjpwYXNz d29yZA==",
		"dXNlcjpwYXNzd29yZA==dXNl", "dXNlcjpwYXNzd29yZA=x", "dXNlcjpwYXNzd29yZA-_", "dXNlcjpwYXNzd29yZA.",
		"dXNlcjpwYXNzd29yZB==", "dXNlcjpwYXNzd29yZB", "x", "xx", "xxx", "=", "====",
		"dTr/", "dTr/w==", "//8=", "OsOp", "w6k6w6k=", "4pyTOuKckw==", "OgA=", "AAA6AAA=",
		// "u:\u0301p": the colon and a combining mark form one grapheme, but Go splits at the byte.
		base64.StdEncoding.EncodeToString([]byte("u:\u0301p")),
	}
	var cases []interface{}
	for _, a := range auths {
		entry, _ := json.Marshal(map[string]string{"auth": a})
		u, p, e, err := unmarshalDockerConfigEntry(entry)
		cases = append(cases, authCase{"auth", a, errText(err), u, p, e, utf8.ValidString(u) && utf8.ValidString(p)})
	}
	entries := []string{
		`{}`, `{"username":"u","password":"p"}`, `{"username":"u"}`, `{"password":"p"}`, `{"email":"e@x"}`,
		`{"Username":"u","PASSWORD":"p","Email":"e"}`, `{"USERNAME":"u","pAsSwOrD":"p"}`,
		`{"username":"u","password":"p","auth":"dXNlcjpwYXNzd29yZA=="}`, `{"username":"u","password":"p","auth":""}`,
		`{"username":"u","password":"p","email":"e","auth":"OnBhc3M="}`, `{"Auth":"dXNlcjpwYXNzd29yZA=="}`,
		`{"username":null,"password":"p"}`, `{"auth":null,"username":"u"}`, `{"username":5}`, `{"auth":true}`,
		`{"password":["p"]}`, `{"identitytoken":"tok","username":"u"}`, `{"registrytoken":"tok"}`, `{"serveraddress":"x","auth":"dTpw"}`,
		`{"user_name":"u"}`, `{"uſername":"u"}`, `{"passwor":"p"}`, `{"username":"ü","password":"\u2028"}`,
		`{"auth":"dXNlcjpwYXNzd29yZA==","email":"a@b"}`, `{"auth":"!!!"}`, `{"auth":"bm9jb2xvbg=="}`,
	}
	for _, text := range entries {
		u, p, e, err := unmarshalDockerConfigEntry([]byte(text))
		cases = append(cases, authCase{"entry", text, errText(err), u, p, e, utf8.ValidString(u) && utf8.ValidString(p)})
	}
	keys := []string{
		"registry.example.com", "https://registry.example.com", "http://registry.example.com", "registry.example.com/",
		"https://registry.example.com/", "registry.example.com/v1/", "registry.example.com/v2/", "registry.example.com/v1",
		"registry.example.com/v2/team", "registry.example.com/v3/", "registry.example.com/team", "registry.example.com/team/",
		"https://index.docker.io/v1/", "index.docker.io", "docker.io", "https://index.docker.io/v1/team", "registry.example.com:5000",
		"https://registry.example.com:5000/v2/", "*.example.com", "https://*.example.com/v1/", "registry.example.com/a%2Fb",
		"registry.example.com/a%zz", "registry.example.com/a?x=1", "registry.example.com#x", "user:pw@registry.example.com",
		"HTTPS://registry.example.com", "ftp://registry.example.com", "//registry.example.com", "registry.example.com//team",
		"", "/", "https://", "registry example.com", "registry.example.com/te am", "[::1]:5000", "localhost:5000/v2/x",
	}
	for _, k := range keys {
		key, ok := keyringKey(k)
		cases = append(cases, keyCase{"key", k, key, ok})
	}
	return file{
		name: "docker-config.json",
		description: "The kubelet's docker config reading (pkg/credentialprovider/config.go and keyring.go), re-implemented " +
			"with encoding/json and encoding/base64: kind \"auth\" is {\"auth\": input} and kind \"entry\" the entry object " +
			"through DockerConfigEntry.UnmarshalJSON (username, password, email or the error); kind \"key\" is a registry " +
			"key through BasicDockerKeyring.Add (ok false: the kubelet skips it).",
		cases: cases,
	}
}

// MARK: time.Duration

type durationParseCase struct {
	Kind        string  `json:"kind"`
	Input       string  `json:"input"`
	Nanoseconds *int64  `json:"nanoseconds"`
	Error       *string `json:"error"`
}

type durationFormatCase struct {
	Kind        string `json:"kind"`
	Nanoseconds int64  `json:"nanoseconds"`
	String      string `json:"string"`
}

func durationFile() file {
	inputs := []string{
		"0", "+0", "-0", "00", "0s", "1ns", "1us", "1µs", "1μs", "1ms", "1s", "1m", "1h", "1d", "1w", "1S", "1H", "1Ms",
		"5m0s", "1h30m", "1h30m0s", "1.5h", ".5s", "5.s", "5.0s", "-5s", "+5s", "--5s", "-+5s", "+-5s", "1.004s",
		"100.00100s", "3h30m", "10.5s4m", "-2m3.4s", "1h2m3s4ms5us6ns", "39h9m14.425s", "52763797000ns",
		"0.3333333333333333333h", "9007199254740993ns", "9223372036854775807ns", "9223372036854775808ns",
		"-9223372036854775808ns", "-9223372036854775809ns", "9223372036.854775807s", "9223372036.854775808s",
		"2562047h47m16.854775807s", "2562047h47m16.854775808s", "-2562047h47m16.854775808s", "2562048h",
		"0.100000000000000000000h", "0.9223372036854775807h", "0.9223372036854775808h", "0.0000000000000000001s",
		"1.00000000000000000000000000000000001s", "3000000h", "", " ", "3", "-", "+", "s", ".", "-.", ".s", "+.s",
		"1..5s", "1.5.s", "5 s", " 5s", "5s ", "1e3s", "0x10s", "1_000s", "１s", "5s5", "5sm", "1hh", "1h-1m",
		"1h+1m", "0.5", "-0.5", "1.5µ", "1.5u", "1.5n", "1.5mss", "300ms", "-1.5h", "1h0m0.000000001s",
		"0.000000001s", "0.0000000001s", "0.9ns", "1.9ns", "-0.9ns", "99999999999999999999ns", "1.99999999999999999999s",
	}
	var cases []interface{}
	for _, in := range inputs {
		d, err := time.ParseDuration(in)
		c := durationParseCase{Kind: "parse", Input: in, Error: errText(err)}
		if err == nil {
			n := int64(d)
			c.Nanoseconds = &n
		}
		cases = append(cases, c)
	}
	values := []int64{
		0, 1, -1, 999, 1000, 1001, 1100, 999999, 1000000, 2200000, 999999999, 1000000000, 1000000001, 3300000000,
		59999999999, 60000000000, 245000000000, 245001000000, 300000000000, 3599999999999, 3600000000000,
		18367001000000, 480000000001, 86400000000000, 123456789012345, -1000000000, -1500, -90000000000,
		math.MaxInt64, math.MinInt64, math.MinInt64 + 1, 1 << 53, 500000000, 10000000000, 3723004005006,
	}
	for _, v := range values {
		cases = append(cases, durationFormatCase{"format", v, time.Duration(v).String()})
	}
	return file{
		name: "duration.json",
		description: "time.ParseDuration(input) as nanoseconds or the error (kind \"parse\"); time.Duration(nanoseconds).String() " +
			"(kind \"format\"), the form the kubelet reads and writes for cacheDuration.",
		cases: cases,
	}
}

// MARK: RFC 3339

type rfc3339ParseCase struct {
	Kind  string  `json:"kind"`
	Input string  `json:"input"`
	Error *string `json:"error"`
	// Unix seconds and nanoseconds of the instant, and the UTC offset in seconds.
	UnixSeconds *int64 `json:"unixSeconds,omitempty"`
	Nanosecond  int    `json:"nanosecond"`
	Offset      int    `json:"offset"`
	// Whether the instant fits Int64 nanoseconds since 1970 (1677-09-21 to 2262-04-11).
	FitsInt64Nanoseconds bool   `json:"fitsInt64Nanoseconds"`
	UTC                  string `json:"utc,omitempty"`
}

type rfc3339FormatCase struct {
	Kind        string `json:"kind"`
	UnixSeconds int64  `json:"unixSeconds"`
	Nanosecond  int64  `json:"nanosecond"`
	RFC3339     string `json:"rfc3339"`
	RFC3339Nano string `json:"rfc3339Nano"`
}

func fitsInt64Nanoseconds(t time.Time) bool {
	return !t.Before(time.Unix(0, math.MinInt64)) && !t.After(time.Unix(0, math.MaxInt64))
}

func rfc3339File() file {
	inputs := []string{
		"2024-10-21T12:26:40Z", "2024-10-21T12:26:40.5Z", "2024-10-21T12:26:40.123456789Z", "2024-10-21T12:26:40.1234567891Z",
		"2024-10-21T12:26:40.000000000000000000001Z", "2024-10-21T12:26:40.Z", "2024-10-21T12:26:40,5Z", "2024-10-21T12:26:40.5",
		"2024-10-21T12:26:40+02:00", "2024-10-21T12:26:40-07:30", "2024-10-21T12:26:40+00:00", "2024-10-21T12:26:40-00:00",
		"2024-10-21T12:26:40+23:59", "2024-10-21T12:26:40+24:00", "2024-10-21T12:26:40+12:60", "2024-10-21T12:26:40+0200",
		"2024-10-21T12:26:40+02", "2024-10-21T12:26:40+2:00", "2024-10-21T12:26:40.5+02:00",
		"2024-10-21t12:26:40Z", "2024-10-21T12:26:40z", "2024-10-21 12:26:40Z", "2024-10-21T12:26:40", "2024-10-21",
		"2024-10-21T12:26Z", "2024-10-21T12:26:4Z", "2024-10-21T1:26:40Z", "2024-1-21T12:26:40Z", "24-10-21T12:26:40Z",
		"02024-10-21T12:26:40Z", "+2024-10-21T12:26:40Z", "2024-10-21T12:26:40ZZ", "2024-10-21T12:26:40Z ", " 2024-10-21T12:26:40Z",
		"2024-00-21T12:26:40Z", "2024-13-21T12:26:40Z", "2024-10-00T12:26:40Z", "2024-10-32T12:26:40Z", "2024-02-29T00:00:00Z",
		"2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-10-21T24:00:00Z",
		"2024-10-21T23:60:00Z", "2024-10-21T23:59:60Z", "2016-12-31T23:59:60Z", "2024-10-21T23:59:59Z", "2024-10-21T12:26:40.-5Z",
		"1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999Z", "1677-09-21T00:12:43.145224192Z", "1677-09-21T00:12:43.145224191Z",
		"2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:44Z", "2262-04-11T23:47:16Z",
		"2024-10-21T12:26:40+99:99", "2024-10-21T12:26:40-23:59", "2024-10-21T12:26:40.1+01:00", "２024-10-21T12:26:40Z",
		"2024-10-21T12:26:40\u00a0Z", "2024-10-21T12:26:40UTC", "2024-10-21T12:26:40GMT", "", "Z",
	}
	var cases []interface{}
	for _, in := range inputs {
		t, err := time.Parse(time.RFC3339, in)
		c := rfc3339ParseCase{Kind: "parse", Input: in, Error: errText(err)}
		if err == nil {
			s := t.Unix()
			c.UnixSeconds = &s
			c.Nanosecond = t.Nanosecond()
			_, c.Offset = t.Zone()
			c.FitsInt64Nanoseconds = fitsInt64Nanoseconds(t)
			c.UTC = t.UTC().Format(time.RFC3339)
		}
		cases = append(cases, c)
	}
	instants := [][2]int64{
		{0, 0}, {0, 1}, {0, 500000000}, {0, 999999999}, {-1, 0}, {-1, 999999999}, {1729513600, 0}, {1729513600, 123000000},
		{1729513600, 123456789}, {951782400, 0}, {4102444800, 0}, {-62135596800, 0}, {-62167219200, 0}, {253402300799, 999999999},
		{-9223372037, 145224192}, {9223372036, 854775807}, {1234567890, 100}, {86399, 0}, {86400, 0}, {-86400, 0},
	}
	for _, in := range instants {
		t := time.Unix(in[0], in[1]).UTC()
		cases = append(cases, rfc3339FormatCase{"format", in[0], in[1], t.Format(time.RFC3339), t.Format(time.RFC3339Nano)})
	}
	return file{
		name: "rfc3339.json",
		description: "time.Parse(time.RFC3339, input) (what metav1.Time reads): the instant as Unix seconds plus nanosecond, " +
			"the zone offset, t.UTC().Format(time.RFC3339), or the error (kind \"parse\"); time.Unix(unixSeconds, nanosecond).UTC() " +
			"through Format(time.RFC3339) (what metav1.Time writes) and Format(time.RFC3339Nano) (kind \"format\").",
		cases: cases,
	}
}

// MARK: encoding/json strings

type jsonStringCase struct {
	InputHex string `json:"inputHex"`
	Marshal  string `json:"marshal"`
}

func jsonStringFile() file {
	var inputs []string
	for b := 0; b < 0x80; b++ {
		inputs = append(inputs, string([]byte{byte(b)}))
	}
	inputs = append(inputs,
		"", "plain", "a<b>c&d", "</script>", "\u2028", "\u2029", "a\u2028b\u2029c", "\u2027\u202a", "\u00e9", "\u00ff",
		"\u0100", "\u07ff", "\u0800", "\ufeff", "\ufffd", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff", "\u0080\u009f",
		"\\\"/", "\b\f\n\r\t", "\x00\x1f\x7f", "user:pa$$w0rd", "{\"auth\":\"x\"}",
		// Invalid UTF-8: Go writes \ufffd for each byte it cannot decode.
		"\x80", "\xbf", "\xc0", "\xc0\x80", "\xc1\xbf", "\xc2", "\xc2\x7f", "\xc2\xc2\x80", "\xe2", "\xe2\x80", "\xe2\x80\x28",
		"\xe2\x80\xa8\xe2\x80", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\x9f\xbf", "\xef\xbf\xbe",
		"\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80",
		"\xfe", "\xff", "\xff\xfe", "a\xffb", "\xf0\x9f\x98", "\xf0\x9f\x98a", "<\xff>", "\xe2\x80\xa9\x80",
	)
	var cases []interface{}
	for _, in := range inputs {
		out, err := json.Marshal(in)
		if err != nil {
			panic(err)
		}
		cases = append(cases, jsonStringCase{hex.EncodeToString([]byte(in)), string(out)})
	}
	return file{
		name: "json-string.json",
		description: "encoding/json Marshal of a Go string given as its bytes (inputHex); marshal is the exact output " +
			"(HTML-safe escaping, \\b and \\f since Go 1.22, \\ufffd per invalid byte).",
		cases: cases,
	}
}
