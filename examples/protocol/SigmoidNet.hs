-- A 3-layer sigmoid net with hand-written backprop, in the style of our first user
-- (lists of rows, one flat parameter vector unpacked per layer), served over
-- gradcheck-protocol 1 (docs/protocol.md).
--
--   ghc -O1 -o sigmoid-net examples/protocol/SigmoidNet.hs
--   gradcheck check --cmd ./sigmoid-net --layers       # planted bug: layer 1 (sig1) is wrong
--   gradcheck check --cmd "./sigmoid-net --fixed"      # the fixed twin: exits 0
--
-- The planted bug is our first user's: the backward of a sigmoid layer applies
-- sigmoid' to the activation a = sigmoid z (what the cache held) instead of to z.
-- Net: x (N x 4) -> dense1 -> sigmoid -> dense2 -> sigmoid -> dense3 -> sigmoid;
-- loss = sum ((a - t)^2) / (2 N).  Only `base` is needed.
module Main (main) where

import Data.List (foldl', transpose)
import System.Environment (getArgs)
import System.IO
import Text.Read (readMaybe)

type Matrix = [[Double]] -- a list of rows

sizes :: [Int]
sizes = [4, 5, 4, 3]

nBatch :: Int
nBatch = 6

sigmoid :: Double -> Double
sigmoid z = 1 / (1 + exp (-z))

sigmoidPrime :: Double -> Double
sigmoidPrime z = sigmoid z * (1 - sigmoid z)

shapes :: [(String, [Int])]
shapes =
  concat
    [ [("W" ++ show k, [d, e]), ("b" ++ show k, [e])]
    | (k, d, e) <- zip3 [1 :: Int ..] sizes (tail sizes)
    ]

nParams :: Int
nParams = sum (map (product . snd) shapes)

nLayers :: Int
nLayers = 2 * (length sizes - 1) -- dense, sigmoid, dense, sigmoid, dense, sigmoid

inWidth, outWidth :: Int -> Int
inWidth k = sizes !! (if even k then k `div` 2 else k `div` 2 + 1)
outWidth k = sizes !! (k `div` 2 + 1)

chunks :: Int -> [a] -> [[a]]
chunks _ [] = []
chunks n xs = let (a, b) = splitAt n xs in a : chunks n b

-- | The flat vector as (W, b) per dense layer (C order: W is d rows of e).
unpack :: [Double] -> [(Matrix, [Double])]
unpack = go (zip sizes (tail sizes))
  where
    go [] _ = []
    go ((d, e) : rest) t =
      let (w, t1) = splitAt (d * e) t
          (b, t2) = splitAt e t1
       in (chunks e w, b) : go rest t2

vecMat :: [Double] -> Matrix -> [Double]
vecMat v w = foldl' (zipWith (+)) (replicate (length (head w)) 0) (zipWith (map . (*)) v w)

forwardLayer :: [(Matrix, [Double])] -> Int -> Matrix -> Matrix
forwardLayer ps k x
  | even k = let (w, b) = ps !! (k `div` 2) in [zipWith (+) b (vecMat row w) | row <- x]
  | otherwise = map (map sigmoid) x

-- | (dx, the layer's parameter gradients flattened: dW then db).
backwardLayer :: Bool -> [(Matrix, [Double])] -> Int -> Matrix -> Matrix -> (Matrix, [Double])
backwardLayer fixed ps k x gy
  | even k =
      let (w, _) = ps !! (k `div` 2)
          dx = [vecMat g (transpose w) | g <- gy]
          dw = [[sum (zipWith (*) xc gc) | gc <- transpose gy] | xc <- transpose x]
       in (dx, concat dw ++ map sum (transpose gy))
  | otherwise = (zipWith (zipWith (*)) gy (map (map slope) x), [])
  where
    -- the planted bug: sigmoid' of the activation a = sigmoid z, not of z
    slope z = if fixed then sigmoidPrime z else sigmoidPrime (sigmoid z)

inputs, targets :: Matrix
inputs = [[sin (fromIntegral (4 * i + j + 1)) | j <- [0 .. 3]] | i <- [0 .. nBatch - 1 :: Int]]
targets = [[0.5 + 0.4 * cos (fromIntegral (3 * i + j)) | j <- [0 .. 2]] | i <- [0 .. nBatch - 1 :: Int]]

-- | The input of every layer, and the output of the last.
activations :: [Double] -> [Matrix]
activations theta = scanl (flip (forwardLayer (unpack theta))) inputs [0 .. nLayers - 1]

loss :: [Double] -> Double
loss theta = sum [(a - t) ^ (2 :: Int) | (ra, rt) <- zip (last (activations theta)) targets, (a, t) <- zip ra rt] / (2 * fromIntegral nBatch)

grad :: Bool -> [Double] -> [Double]
grad fixed theta = concat (go (nLayers - 1) gOut [])
  where
    acts = activations theta
    n = fromIntegral nBatch
    gOut = zipWith (zipWith (\a t -> (a - t) / n)) (last acts) targets
    go k gy done
      | k < 0 = done
      | otherwise =
          let (dx, dp) = backwardLayer fixed (unpack theta) k (acts !! k) gy
           in go (k - 1) dx (dp : done)

readD :: String -> Maybe Double
readD s = case s of
  "nan" -> Just (0 / 0)
  "inf" -> Just (1 / 0)
  "-inf" -> Just (-1 / 0)
  _ -> readMaybe s

numbers :: Int -> [String] -> Either String [Double]
numbers count ws
  | length ws /= count = Left ("expected " ++ show count ++ " numbers, got " ++ show (length ws))
  | otherwise = maybe (Left "a token is not a number") Right (mapM readD ws)

showAll :: [Double] -> String
showAll = unwords . map show

data State = State {theta :: [Double], cache :: Maybe (Int, Matrix)}

layerIndex :: String -> Either String Int
layerIndex w = case readMaybe w of
  Just k | k >= 0 && k < nLayers -> Right k
  _ -> Left ("expected a layer index in 0.." ++ show (nLayers - 1))

respond :: Bool -> State -> [String] -> Either String (String, State)
respond fixed st req = case req of
  ("params" : ws) -> (\t -> ("ok", st {theta = t})) <$> numbers nParams ws
  ["loss"] -> Right (show (loss (theta st)), st)
  ["grad"] -> Right (showAll (grad fixed (theta st)), st)
  ["loss_at", i, h] -> case (readMaybe i, readD h) of
    (Just ix, Just hv) | ix >= 0 && ix < nParams ->
      let (a, b : c) = splitAt ix (theta st) in Right (show (loss (a ++ (b + hv) : c)), st)
    _ -> Left ("loss_at: expected I in 0.." ++ show (nParams - 1) ++ " and H")
  ("loss_along" : ws) -> do
    tv <- numbers (nParams + 1) ws
    Right (show (loss (zipWith (\p v -> p + head tv * v) (theta st) (tail tv))), st)
  ["input"] -> Right (unwords [show nBatch, show (sizes !! 0), showAll (concat inputs)], st)
  ("forward" : kw : nw : dw : ws) -> do
    k <- layerIndex kw
    (n, d) <- maybe (Left "forward: expected K N D") Right ((,) <$> readMaybe nw <*> readMaybe dw)
    if d /= inWidth k then Left ("forward: layer " ++ show k ++ " takes D = " ++ show (inWidth k)) else Right ()
    x <- chunks d <$> numbers (n * d) ws
    let y = forwardLayer (unpack (theta st)) k x
    Right (unwords [show n, show (outWidth k), showAll (concat y)], st {cache = Just (k, x)})
  ("backward" : kw : ws) -> do
    k <- layerIndex kw
    x <- case cache st of
      Just (k', x) | k' == k -> Right x
      _ -> Left ("backward: send forward " ++ show k ++ " first")
    gy <- chunks (outWidth k) <$> numbers (length x * outWidth k) ws
    let (dx, dp) = backwardLayer fixed (unpack (theta st)) k x gy
    Right (showAll (concat dx ++ dp), st)
  _ -> Left "unknown request"

loop :: Bool -> State -> IO ()
loop fixed st = do
  eof <- isEOF
  if eof
    then return ()
    else do
      line <- getLine
      if line == "quit"
        then return ()
        else case respond fixed st (words line) of
          Right (answer, st') -> putStrLn answer >> hFlush stdout >> loop fixed st'
          Left message -> putStrLn ("error " ++ message) >> hFlush stdout >> loop fixed st

main :: IO ()
main = do
  args <- getArgs
  hSetBuffering stdout (BlockBuffering Nothing)
  putStrLn "gradcheck-protocol 1"
  mapM_ (\(name, dims) -> putStrLn (unwords ("param" : name : map show dims))) shapes
  mapM_ putStrLn ["layer dense1 W1 b1", "layer sig1", "layer dense2 W2 b2", "layer sig2", "layer dense3 W3 b3", "layer sig3"]
  putStrLn "end"
  hFlush stdout
  loop ("--fixed" `elem` args) (State (replicate nParams 0) Nothing)
