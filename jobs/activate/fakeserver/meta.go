package fakeserver

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Meta Marketing API, Customer File Custom Audiences:
//
//	POST   /meta/{ver}/{audience_id}/users   add
//	DELETE /meta/{ver}/{audience_id}/users   remove
//	{"payload":{"schema":["EMAIL","PHONE",…],"data":[[hash,hash,…],…]},
//	 "session":{"session_id":…,"batch_seq":…,"last_batch_flag":…,"estimated_num_total":…}}
//	-> {"audience_id","session_id","num_received","num_invalid_entries","invalid_entry_samples":{value:reason}}
//
// Errors come as {"error":{"message","type","code","error_subcode","fbtrace_id"}};
// Meta never names the record that broke a whole request.
type metaBody struct {
	Payload struct {
		Schema []string   `json:"schema"`
		Data   [][]string `json:"data"`
	} `json:"payload"`
	Session struct {
		SessionID int64 `json:"session_id"`
		BatchSeq  int   `json:"batch_seq"`
	} `json:"session"`
}

// metaKnown says whether a multi-key schema field is one this emulation knows.
func metaKnown(field string) bool {
	return slices.Contains([]string{"EMAIL", "PHONE", "FN", "LN", "COUNTRY", "ZIP", "CT", "ST", "DOBY", "GEN", "EXTERN_ID"}, field)
}

func metaError(code int, msg string) reply {
	return jsonReply(http.StatusBadRequest, map[string]any{"error": map[string]any{
		"message": msg, "type": "OAuthException", "code": code, "error_subcode": 1870145, "fbtrace_id": "AfakeTrace"}})
}

func (s *Server) metaUsers(r *http.Request, body []byte) reply {
	var b metaBody
	if err := json.Unmarshal(body, &b); err != nil {
		return metaError(100, "(#100) malformed payload: "+err.Error())
	}
	schema := b.Payload.Schema
	if len(schema) == 0 || len(b.Payload.Data) == 0 || len(b.Payload.Data) > 10000 {
		return metaError(100, "(#100) payload needs a schema and 1 to 10000 rows")
	}
	for _, f := range schema {
		if !metaKnown(f) {
			return metaError(100, "(#100) unknown schema field "+f)
		}
	}
	col := func(name string) int { return slices.Index(schema, name) }
	em, ph := col("EMAIL"), col("PHONE")
	invalid := map[string]string{}
	bad := make([]bool, len(b.Payload.Data))
	for i, row := range b.Payload.Data {
		why := ""
		switch {
		case len(row) != len(schema):
			why = "row length differs from schema"
		case (em < 0 || row[em] == "") && (ph < 0 || row[ph] == ""):
			why = "no EMAIL or PHONE"
		}
		for _, v := range row {
			if why == "" && v != "" && !isLowerHex64(v) {
				why = "value not SHA-256 hashed"
			}
		}
		if why == "" {
			why, _ = s.refused(false, row...)
		}
		if why != "" {
			bad[i] = true
			key := strings.Join(row, ",")
			for _, v := range row {
				if v != "" {
					key = v
					break
				}
			}
			invalid[key] = why
		}
	}
	if len(invalid) > 0 && s.faults.RejectMode != PerRecord {
		return metaError(100, "(#100) Invalid parameter: the payload holds invalid entries")
	}
	a := s.list(Meta, r.PathValue("audience"))
	for i, row := range b.Payload.Data {
		if bad[i] {
			continue
		}
		id := ""
		if em >= 0 && row[em] != "" {
			id = "em:" + row[em]
		} else {
			id = "ph:" + row[ph]
		}
		if r.Method == http.MethodDelete {
			for k, e := range a.entries {
				if k == id || (em >= 0 && row[em] != "" && e.Fields["EMAIL"] == row[em]) || (ph >= 0 && row[ph] != "" && e.Fields["PHONE"] == row[ph]) {
					a.remove(k)
				}
			}
			continue
		}
		f := map[string]string{}
		for j, name := range schema {
			f[name] = row[j]
		}
		a.put(id, f)
	}
	return jsonReply(http.StatusOK, map[string]any{
		"audience_id": r.PathValue("audience"), "session_id": b.Session.SessionID,
		"num_received": len(b.Payload.Data), "num_invalid_entries": len(invalid), "invalid_entry_samples": invalid,
	})
}
