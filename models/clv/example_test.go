package clv_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/parcours/parcours/models/clv"
)

// Example shows the path of `parcours model fit clv` and of the nightly
// scoring job: read transactions, summarise a calibration period, fit, save,
// and score. (Compiled, not run: it needs a transactions file.)
func Example() {
	ctx := context.Background()
	f, err := os.Open("transactions.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	txs, err := clv.ReadTransactionsCSV(f, clv.CSVColumns{Customer: "customer_id", Date: "order_date", Amount: "amount"})
	if err != nil {
		log.Fatal(err)
	}
	calEnd := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	customers, err := clv.Summarize(txs, calEnd, clv.Weeks)
	if err != nil {
		log.Fatal(err)
	}
	m, err := clv.Fit(ctx, customers, clv.Weeks)
	if err != nil {
		log.Fatal(err)
	}
	bg, gg := m.BGNBD, m.GammaGamma
	if bg.SE != nil {
		fmt.Printf("r=%.4f (%.4f) alpha=%.4f (%.4f) a=%.4f (%.4f) b=%.4f (%.4f) LL=%.3f\n",
			bg.Params.R, bg.SE.R, bg.Params.Alpha, bg.SE.Alpha, bg.Params.A, bg.SE.A, bg.Params.B, bg.SE.B, bg.LogLikelihood)
	}
	if gg.SE != nil {
		fmt.Printf("p=%.4f (%.4f) q=%.4f (%.4f) v=%.4f (%.4f) LL=%.3f\n",
			gg.Params.P, gg.SE.P, gg.Params.Q, gg.SE.Q, gg.Params.V, gg.SE.V, gg.LogLikelihood)
	}
	if err := m.Save(os.Stdout); err != nil {
		log.Fatal(err)
	}
	scores, err := m.Score(ctx, customers, clv.ScoreOptions{HorizonDays: 365, AnnualDiscountRate: 0.1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", scores[0])
}
