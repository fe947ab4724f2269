// The Markdown table of medians, with the ratios the issue asks for.
package main

import (
	"fmt"
	"strings"
)

func find(res *Results, group, env string, n int, tool string, workers int) *Case {
	for _, c := range res.Cases {
		if c.Group == group && c.Env == env && c.N == n && c.Tool == tool && c.Workers == workers {
			return c
		}
	}
	return nil
}

func renderTable(res *Results) string {
	var sb strings.Builder
	m := res.Machine
	fmt.Fprintf(&sb, "Machine: %s cores, load before %s, after %s; mode %s, medians of %d runs; proxy round trip %s.\n\n",
		m["cores"], m["loadBefore"], res.LoadAfter, res.Mode, res.Reps, res.RTT)
	fmt.Fprintf(&sb, "| case | env | pods/objects | tool | workers | median s | objects/s | PATCH sent | GET+LIST | peak RSS MiB | speed vs kubectl | vs ceiling |\n")
	fmt.Fprintf(&sb, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range res.Cases {
		if len(c.Runs) == 0 {
			continue
		}
		w := "-"
		if c.Workers > 0 {
			w = fmt.Sprint(c.Workers)
		}
		vsKubectl, vsCeiling := "", ""
		kubectlTool := "kubectl"
		if c.Group == "scale" || c.Group == "set-image" {
			kubectlTool = "kubectl-loop"
		}
		if k := find(res, c.Group, c.Env, c.N, kubectlTool, 0); k != nil && c.Tool != kubectlTool && c.MedianSeconds > 0 {
			vsKubectl = fmt.Sprintf("%.2fx", k.MedianSeconds/c.MedianSeconds)
		}
		if c.Group == "label" && c.Tool != "ceiling" && c.Workers > 0 {
			if k := find(res, c.Group, c.Env, c.N, "ceiling", c.Workers); k != nil && c.MedianSeconds > 0 {
				vsCeiling = fmt.Sprintf("%.0f%%", 100*k.MedianSeconds/c.MedianSeconds)
			}
		}
		patches := "?"
		if c.MedianPatches >= 0 {
			patches = fmt.Sprint(c.MedianPatches)
		}
		gets := "?"
		if len(c.Runs) > 0 && c.Runs[0].Gets >= 0 {
			gets = fmt.Sprint(c.Runs[len(c.Runs)/2].Gets)
		}
		rss := ""
		if c.MedianRSSKiB > 0 {
			rss = fmt.Sprintf("%.0f", float64(c.MedianRSSKiB)/1024)
		}
		tool := c.Tool
		if len(c.CeilingPatchPerSec) > 0 {
			tool += fmt.Sprintf(" (patch phase %.0f/s)", median(c.CeilingPatchPerSec))
		}
		fmt.Fprintf(&sb, "| %s | %s | %d | %s | %s | %.2f | %.0f | %s | %s | %s | %s | %s |\n",
			c.Group, c.Env, c.N, tool, w, c.MedianSeconds, c.MedianPerSecond, patches, gets, rss, vsKubectl, vsCeiling)
	}
	return sb.String()
}
