package redisstore_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Bad URLs and unreachable servers give clear errors, without the password.
func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dead := fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t))
	for _, tt := range []struct {
		url, want string
	}{
		{"http://127.0.0.1:6379", "not a redis:// or rediss:// URL"},
		{"redis://", "not a redis:// or rediss:// URL"},
		{"127.0.0.1:6379", "not a redis:// or rediss:// URL"},
		// No scheme: parses as scheme "user" with an opaque part, which
		// url.URL.Redacted leaves as it is.
		{"user:hunter2@127.0.0.1:6379", "not a redis:// or rediss:// URL"},
		{"redis://:hunter2%zz@127.0.0.1:6379", "not a redis:// or rediss:// URL"},
		{"redis://:hunter2@127.0.0.1:6379/notadb", "invalid database"},
		{"redis://127.0.0.1:6379?cluster=maybe", "cluster=\"maybe\""},
		{"redis://127.0.0.1:6379?dial_timeout=soon", "dial_timeout"},
		{"redis://:hunter2@" + dead, "is unreachable"},
		{"redis://:hunter2@" + dead + "?cluster=true", "is unreachable"},
		// A password that starts with digits and holds an unescaped '#',
		// '?' or '/' parses as host:port with no user, the rest as a
		// fragment, options or a database.
		{"redis://" + dead + "#hunter2@127.0.0.1:6379", "percent-encode"},
		{"redis://" + dead + "?hunter2@127.0.0.1:6379", "percent-encode"},
		{"redis://" + dead + "/hunter2@127.0.0.1:6379", "percent-encode"},
		{"redis://admin:1234#hunter2@127.0.0.1:6379?cluster=true", "percent-encode"},
		// A cluster has database 0 alone: a cluster URL naming another
		// one is refused, not read as database 0.
		{"redis://:hunter2@" + dead + "/1?cluster=true", "no database 1"},
		{"redis://:hunter2@" + dead + "/2?addr=" + dead, "no database 2"},
	} {
		_, err := redisstore.Open(ctx, tt.url, redisstore.Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", tt.url, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error shows the password: %v", tt.url, err)
		}
	}
	for _, tt := range []struct {
		url, prefix string
	}{
		{"redis://127.0.0.1:1", "a{b}"},
		{"redis://127.0.0.1:1?prefix=a*b", ""},
		{"redis://127.0.0.1:1?prefix=", ""},
		{"redis://127.0.0.1:1?prefix=shop", "other"},
	} {
		if _, err := redisstore.Open(ctx, tt.url, redisstore.Options{Prefix: tt.prefix}); err == nil || !strings.Contains(err.Error(), "prefix") {
			t.Errorf("Open(%q, prefix %q) = %v, want an error about the prefix", tt.url, tt.prefix, err)
		}
	}
}

// prefix= in the URL names the records, as Options.Prefix does.
func TestURLPrefix(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	a := openAt(t, "redis://"+r.Addr+"?prefix=shop", redisstore.Options{Prefix: "shop"})
	if err := a.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 3)); err != nil {
		t.Fatal(err)
	}
	b, err := redisstore.Open(ctx, "redis://"+r.Addr+"/0?prefix=shop&dial_timeout=2s", redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, err := b.Len(ctx); n != 3 || err != nil {
		t.Errorf("Len through prefix=shop = %d, %v; want 3", n, err)
	}
}

// AUTH comes from the URL: a password alone, or an ACL user and password.
func TestAuth(t *testing.T) {
	ctx := context.Background()
	// Passwords are set once the server runs: testservers checks that it
	// answers PING without AUTH.
	r := testservers.StartRedis(t)
	c := clientOf(t, r.Addr)
	if err := c.Do(ctx, "ACL", "SETUSER", "alice", "on", ">wonder", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "requirepass", "s3cret").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"redis://:s3cret@" + r.Addr, true},
		{"redis://default:s3cret@" + r.Addr + "/0", true},
		{"redis://alice:wonder@" + r.Addr, true},
		{"redis://" + r.Addr, false},
		{"redis://:wrong@" + r.Addr, false},
		{"redis://alice:s3cret@" + r.Addr, false},
	} {
		s, err := redisstore.Open(ctx, tt.url, redisstore.Options{Prefix: "auth"})
		if !tt.ok {
			if err == nil {
				s.Close()
				t.Errorf("Open(%q) succeeded", tt.url)
			} else if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "wonder") {
				t.Errorf("Open(%q) error shows a password: %v", tt.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", tt.url, err)
			continue
		}
		if _, err := s.Usage(ctx); err != nil {
			t.Errorf("%s: %v", tt.url, err)
		}
		s.Close()
	}
}

// rediss:// speaks TLS: a server whose certificate is not trusted is
// refused, and one trusted through the system roots (SSL_CERT_FILE, in a
// child process, since Go reads the roots once) works.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, cert, key)
	port := testservers.FreePort(t)
	r := testservers.StartRedis(t, "--tls-port", strconv.Itoa(port), "--tls-cert-file", cert, "--tls-key-file", key, "--tls-auth-clients", "no")
	url := fmt.Sprintf("rediss://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := redisstore.Open(ctx, url, redisstore.Options{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Open(%q) with an untrusted certificate = %v, want a certificate error", url, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	spec := writerSpec{url: url, prefix: "tls", start: time.Now().Add(-time.Minute), spacing: time.Second, n: 5, batch: 5, fold: time.Second}
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+cert, writerEnv+"="+spec.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("writing over TLS: %v\n%s", err, out.String())
	}
	s := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: "tls"})
	// A context of its own: the child process may have taken long.
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := s.Len(ctx); n != 5 || err != nil {
		t.Errorf("after writing over TLS: Len = %d, %v; want 5", n, err)
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its
// key.
func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}
