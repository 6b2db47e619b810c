package page

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The default logo's size: 1.91:1, the shape social networks crop
// shared images to, so it also serves as the fallback share image.
const (
	DefaultLogoWidth  = 600
	DefaultLogoHeight = 314
)

// DefaultLogo draws the publication's name as a wordmark, for a site that
// configured no logo: structured data needs a publisher logo, and a share
// card needs an image when an article has none.
func DefaultLogo(name string) ([]byte, error) {
	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("logo font: %w", err)
	}
	img := image.NewRGBA(image.Rect(0, 0, DefaultLogoWidth, DefaultLogoHeight))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{0x12, 0x12, 0x12, 0xff}), image.Point{}, draw.Src)
	// The largest size at which the name fits with a margin.
	size := 72.0
	var face font.Face
	for ; size >= 12; size -= 4 {
		face, err = opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return nil, fmt.Errorf("logo face: %w", err)
		}
		if font.MeasureString(face, name).Ceil() <= DefaultLogoWidth-80 {
			break
		}
	}
	w := font.MeasureString(face, name).Ceil()
	m := face.Metrics()
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.White), Face: face,
		Dot: fixed.P((DefaultLogoWidth-w)/2, (DefaultLogoHeight+m.Ascent.Ceil()-m.Descent.Ceil())/2)}
	d.DrawString(name)
	// A rule under the name, as on a masthead.
	draw.Draw(img, image.Rect(40, DefaultLogoHeight-48, DefaultLogoWidth-40, DefaultLogoHeight-44),
		image.NewUniform(color.RGBA{0xb3, 0x1b, 0x1b, 0xff}), image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("logo: %w", err)
	}
	return buf.Bytes(), nil
}
