package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/recording"
)

// services are the non-HTTP dependencies of the shop: a SQL database, a gRPC
// inventory service, DNS and a line-based TCP service. All run in-process on
// loopback.
type services struct {
	db       *sql.DB
	grpcSrv  *grpc.Server
	grpcConn *grpc.ClientConn
	stock    healthpb.HealthClient
	echo     net.Listener
	dialer   netstats.Dialer
	resolver netstats.Resolver
}

func startServices(rec *recording.Recorder) (*services, error) {
	s := &services{dialer: netstats.Dialer{Mode: netstats.PerOp}}
	var err error
	if s.db, err = openDB(); err != nil {
		return nil, err
	}
	// The gRPC server is recorded too: its RPCs are records of kind grpc.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, err
	}
	s.grpcSrv = grpc.NewServer(grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	hs := health.NewServer()
	hs.SetServingStatus("inventory", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s.grpcSrv, hs)
	go s.grpcSrv.Serve(ln)
	s.grpcConn, err = grpc.NewClient(ln.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// The interceptors give a call the status its RPC returned where
		// gRPC's stats do not report it: a stream the server ends while
		// its client sends, a unary RPC refused before its request went.
		grpc.WithStatsHandler(grpcstats.NewClientHandler()),
		grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.stock = healthpb.NewHealthClient(s.grpcConn)
	if s.echo, err = startEcho(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops every service.
func (s *services) Close() error {
	var errs []error
	if s.grpcConn != nil {
		errs = append(errs, s.grpcConn.Close())
	}
	if s.grpcSrv != nil {
		s.grpcSrv.Stop()
	}
	if s.echo != nil {
		errs = append(errs, s.echo.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

// openDB opens an in-memory SQLite database through sqlstats and fills it.
func openDB() (*sql.DB, error) {
	db, err := sqlstats.Open("sqlite", ":memory:", sqlstats.WithSystem("sqlite"))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	stmts := []string{
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, total_cents INTEGER NOT NULL)`,
	}
	for i := 1; i <= 20; i++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO customers (id, name) VALUES (%d, 'customer %d')`, i, i))
	}
	for i := 1; i <= 60; i++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO orders (id, customer_id, total_cents) VALUES (%d, %d, %d)`, i, 1+i%20, 100*i))
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			return nil, fmt.Errorf("demo database: %w", err)
		}
	}
	return db, nil
}

// startEcho serves a line protocol on loopback: each line comes back
// upper-cased.
func startEcho() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					io.WriteString(c, strings.ToUpper(line))
				}
			}()
		}
	}()
	return ln, nil
}

type order struct {
	ID       int
	Customer string
	Total    int
}

// ordersNPlusOne lists recent orders, then looks up each order's customer
// with a query of its own: the N+1 pattern.
func (s *services) ordersNPlusOne(ctx context.Context) ([]order, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, customer_id, total_cents FROM orders ORDER BY id DESC LIMIT 10`)
	if err != nil {
		return nil, err
	}
	type row struct{ id, customer, total int }
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.customer, &r.total); err != nil {
			rows.Close()
			return nil, err
		}
		rs = append(rs, r)
	}
	rows.Close()
	var out []order
	for _, r := range rs {
		var name string
		if err := s.db.QueryRowContext(ctx, `SELECT name FROM customers WHERE id = ?`, r.customer).Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, order{r.id, name, r.total})
	}
	return out, nil
}

// ordersJoined is the fixed twin: one query with a join.
func (s *services) ordersJoined(ctx context.Context) ([]order, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, c.name, o.total_cents FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id DESC LIMIT 10`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []order
	for rows.Next() {
		var o order
		if err := rows.Scan(&o.ID, &o.Customer, &o.Total); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func writeOrders(w http.ResponseWriter, orders []order, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, o := range orders {
		fmt.Fprintf(w, "order %d: %s, %d.%02d\n", o.ID, o.Customer, o.Total/100, o.Total%100)
	}
}

// serviceRoutes adds the routes that use the non-HTTP services.
func (s *services) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /customers/orders", func(w http.ResponseWriter, r *http.Request) {
		orders, err := s.ordersNPlusOne(r.Context())
		writeOrders(w, orders, err)
	})
	mux.HandleFunc("GET /customers/orders/joined", func(w http.ResponseWriter, r *http.Request) {
		orders, err := s.ordersJoined(r.Context())
		writeOrders(w, orders, err)
	})
	mux.HandleFunc("GET /stock", func(w http.ResponseWriter, r *http.Request) {
		resp, err := s.stock.Check(r.Context(), &healthpb.HealthCheckRequest{Service: "inventory"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "inventory:", resp.GetStatus())
	})
	mux.HandleFunc("GET /stock/unknown", func(w http.ResponseWriter, r *http.Request) {
		_, err := s.stock.Check(r.Context(), &healthpb.HealthCheckRequest{Service: "warehouse"})
		http.Error(w, fmt.Sprint("warehouse: ", err), http.StatusBadGateway)
	})
	mux.HandleFunc("GET /lookup", func(w http.ResponseWriter, r *http.Request) {
		addrs, err := s.resolver.LookupHost(r.Context(), "localhost")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "localhost is", strings.Join(addrs, ", "))
	})
	mux.HandleFunc("GET /socket", func(w http.ResponseWriter, r *http.Request) {
		c, err := s.dialer.DialContext(r.Context(), "tcp", s.echo.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for _, word := range []string{"ping\n", "hello\n"} {
			io.WriteString(c, word)
			line, err := br.ReadString('\n')
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			io.WriteString(w, line)
		}
	})
}
